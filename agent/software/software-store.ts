import { hasCode } from "../../common/errors.js";
import { type BackoffOptions, backoffDelay } from "../../common/index.js";
import { removeSystemUser } from "../partitions/system-user.js";
import { listBuildAccounts } from "./build-account.js";
import {
  type InstalledSoftware,
  type InstallOptions,
  installSoftware,
  listInstalled,
  removeInterruptedInstalls,
} from "./install.js";

/** Why a release is not installed, and when the next attempt is due. */
export interface InstallFailure {
  error: Error;
  failures: number;
  retryAt: number;
}

export const DEFAULT_INSTALL_BACKOFF: BackoffOptions = { initialMs: 10_000, maxMs: 600_000 };

/**
 * The releases on this node, by descriptor URL. `ensure` installs (or finds) one; a
 * failed install is not retried before its backoff delay has passed — asking earlier
 * gets the same error back — so one broken release costs nothing while others proceed.
 * Offline, a release whose descriptor cannot be fetched but was installed before is used
 * as installed.
 */
export class SoftwareStore {
  private readonly installed = new Map<string, InstalledSoftware>();
  private readonly failed = new Map<string, InstallFailure>();

  private constructor(private readonly options: InstallOptions & { backoff?: BackoffOptions }) {}

  /**
   * Cleans what interrupted installs left (work directories, unrecorded trees, build
   * accounts) and loads the complete ones.
   */
  static open(options: InstallOptions & { backoff?: BackoffOptions }): SoftwareStore {
    const store = new SoftwareStore(options);
    const removed = removeInterruptedInstalls(options);
    if (options.buildAccountPrefix)
      for (const account of listBuildAccounts(options.buildAccountPrefix)) {
        removeSystemUser(account);
        removed.push(account);
      }
    if (removed.length > 0) options.logger.warn({ removed }, "software.interrupted_removed");
    for (const sw of listInstalled(options).sort((a, b) => a.installedAt - b.installedAt))
      store.installed.set(sw.url, sw);
    return store;
  }

  /** The latest install of `url`, if any. */
  get(url: string): InstalledSoftware | undefined {
    return this.installed.get(url);
  }

  failure(url: string): InstallFailure | undefined {
    return this.failed.get(url);
  }

  /** Releases whose last install failed. */
  failureCount(): number {
    return this.failed.size;
  }

  async ensure(url: string, now = Date.now()): Promise<InstalledSoftware> {
    const failure = this.failed.get(url);
    if (failure && now < failure.retryAt) throw failure.error;
    try {
      const sw = await installSoftware(url, this.options);
      this.installed.set(url, sw);
      this.failed.delete(url);
      return sw;
    } catch (err) {
      const known = this.installed.get(url);
      if (hasCode(err, "E_AGENT_FETCH") && known) {
        this.options.logger.warn({ software: url, err }, "software.offline_using_installed");
        return known;
      }
      const failures = (failure?.failures ?? 0) + 1;
      const delay = backoffDelay(this.options.backoff ?? DEFAULT_INSTALL_BACKOFF, failures);
      this.failed.set(url, { error: err as Error, failures, retryAt: now + delay });
      throw err;
    }
  }
}
