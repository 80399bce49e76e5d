import { NativeError } from "../errors.js";
/** The parent a cgroup was to be created under does not exist in some hierarchy. */
export class CgroupParentMissingError extends NativeError {
  readonly code = "E_CGROUP_PARENT";
  constructor(readonly path: string) {
    super(`cgroup parent ${path} does not exist`);
  }
}

/** A cgroup of that name already exists under the parent. */
export class CgroupExistsError extends NativeError {
  readonly code = "E_CGROUP_EXISTS";
  constructor(readonly path: string) {
    super(`cgroup ${path} already exists`);
  }
}

/** A setting needs a controller or interface file this kernel or mode does not offer. */
export class CgroupUnsupportedError extends NativeError {
  readonly code = "E_CGROUP_UNSUPPORTED";
  constructor(
    readonly setting: string,
    reason: string,
  ) {
    super(`cgroup setting '${setting}' is not available: ${reason}`);
  }
}

/** The kernel accepted a cpuset partition but reads it back invalid (e.g. CPUs in use by a sibling). */
export class CgroupPartitionInvalidError extends NativeError {
  readonly code = "E_CGROUP_PARTITION";
  constructor(
    readonly path: string,
    readonly state: string,
  ) {
    super(`cpuset partition of ${path} is invalid: ${state}`);
  }
}

/** A cgroup did not reach the expected state (frozen, empty) within the time allowed. */
export class CgroupTimeoutError extends NativeError {
  readonly code = "E_CGROUP_TIMEOUT";
  constructor(
    readonly path: string,
    readonly waitingFor: string,
    readonly timeoutMs: number,
  ) {
    super(`cgroup ${path} not ${waitingFor} after ${timeoutMs} ms`);
  }
}
