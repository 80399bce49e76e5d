import { parseDuration } from "../../common/index.js";
import type { OpcuaTag } from "../config.js";

/** Tags that share monitoring parameters, created together in CreateMonitoredItems calls. */
export interface MonitorBatch {
  samplingIntervalMs: number;
  queueSize: number;
  deadband?: OpcuaTag["deadband"];
  tags: OpcuaTag[];
}

/**
 * Groups tags by their monitoring parameters and cuts each group into batches of at most
 * `batchSize`. Pure, so the batching is tested without a server.
 */
export function monitorBatches(
  tags: readonly OpcuaTag[],
  defaultSamplingMs: number,
  batchSize: number,
): MonitorBatch[] {
  const groups = new Map<string, MonitorBatch>();
  for (const tag of tags) {
    const samplingIntervalMs =
      tag.samplingInterval === undefined ? defaultSamplingMs : parseDuration(tag.samplingInterval);
    const key = JSON.stringify([samplingIntervalMs, tag.queueSize, tag.deadband ?? null]);
    let group = groups.get(key);
    if (!group) {
      group = { samplingIntervalMs, queueSize: tag.queueSize, deadband: tag.deadband, tags: [] };
      groups.set(key, group);
    }
    group.tags.push(tag);
  }
  const batches: MonitorBatch[] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.tags.length; i += batchSize) {
      batches.push({ ...group, tags: group.tags.slice(i, i + batchSize) });
    }
  }
  return batches;
}
