/** The parent a cgroup was to be created under does not exist in some hierarchy. */
export class CgroupParentMissingError extends Error {
  readonly code = "E_CGROUP_PARENT";
  constructor(readonly path: string) {
    super(`cgroup parent ${path} does not exist`);
    this.name = "CgroupParentMissingError";
  }
}

/** A cgroup of that name already exists under the parent. */
export class CgroupExistsError extends Error {
  readonly code = "E_CGROUP_EXISTS";
  constructor(readonly path: string) {
    super(`cgroup ${path} already exists`);
    this.name = "CgroupExistsError";
  }
}

/** A setting needs a controller or interface file this kernel or mode does not offer. */
export class CgroupUnsupportedError extends Error {
  readonly code = "E_CGROUP_UNSUPPORTED";
  constructor(
    readonly setting: string,
    reason: string,
  ) {
    super(`cgroup setting '${setting}' is not available: ${reason}`);
    this.name = "CgroupUnsupportedError";
  }
}

/** The kernel accepted a cpuset partition but reads it back invalid (e.g. CPUs in use by a sibling). */
export class CgroupPartitionInvalidError extends Error {
  readonly code = "E_CGROUP_PARTITION";
  constructor(
    readonly path: string,
    readonly state: string,
  ) {
    super(`cpuset partition of ${path} is invalid: ${state}`);
    this.name = "CgroupPartitionInvalidError";
  }
}

/** A cgroup did not reach the expected state (frozen, empty) within the time allowed. */
export class CgroupTimeoutError extends Error {
  readonly code = "E_CGROUP_TIMEOUT";
  constructor(
    readonly path: string,
    readonly waitingFor: string,
    readonly timeoutMs: number,
  ) {
    super(`cgroup ${path} not ${waitingFor} after ${timeoutMs} ms`);
    this.name = "CgroupTimeoutError";
  }
}
