import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ProfileName } from "../../realtime/index.js";
import { Journal } from "../converge/journal.js";
import { agentPaths } from "../data-dir.js";
import { RealtimeSetupError } from "../errors.js";
import { installedDescriptor } from "../software/install.js";

/** What an RT instance holds on this node, read from the agent's data directory. */
export interface InstanceRealtimeView {
  instance: string;
  cores: number[];
  /** The profile of its first RT process (what its latency budget is). */
  profile: ProfileName;
  /** Cores every started instance of the node holds (this one's included). */
  held: number[];
}

/**
 * The cores instance `name` holds (the agent's journal) and its profile (the installed
 * descriptor): for `outpost rt verify`, run beside the agent on the node.
 */
export function instanceRealtimeOf(dataDir: string, name: string): InstanceRealtimeView {
  const journalPath = join(dataDir, "journal.json");
  if (!existsSync(journalPath))
    throw new RealtimeSetupError(`${journalPath}: no agent journal (is --data the agent's?)`);
  const journal = Journal.open(journalPath);
  const entry = journal.get(name);
  if (!entry) throw new RealtimeSetupError(`instance ${name} is not on this node (${journalPath})`);
  if (!entry.cores || entry.cores.length === 0 || entry.phase !== "started") {
    throw new RealtimeSetupError(
      `instance ${name} holds no whole cores (${entry.phase}; only a started RT instance does)`,
    );
  }
  const paths = agentPaths(dataDir);
  const descriptor = installedDescriptor(
    { root: paths.software, records: paths.records, builds: paths.builds },
    entry.softwareId ?? "",
  );
  if (!descriptor)
    throw new RealtimeSetupError(
      `instance ${name}: its release is not installed (${paths.records})`,
    );
  const rt = (descriptor.instance?.processes ?? []).find((p) => p.realtime !== undefined);
  const held = journal.names().flatMap((n) => {
    const e = journal.get(n);
    return e?.phase === "started" ? (e.cores ?? []) : [];
  });
  return {
    instance: name,
    cores: entry.cores,
    profile: rt?.realtime?.profile ?? "best-effort",
    held: [...new Set(held)].sort((a, b) => a - b),
  };
}
