import { parseDuration } from "../../common/index.js";
import type { OpcuaDeviceConfig } from "../config.js";
import { CollectorConfigError } from "../errors.js";

const DEFAULT_HANG_MS = 10_000;

/**
 * How long an OPC-UA server may stay silent (no publish response, not even a keep-alive)
 * before it counts as lost: `opcua.hangTimeout`, else 10 s, or three publishing
 * intervals when that is longer (keep-alives cannot come more often than publishes).
 */
export function hangTimeoutMs(device: OpcuaDeviceConfig): number {
  const set = device.opcua.hangTimeout;
  if (set !== undefined) return parseDuration(set);
  return Math.max(DEFAULT_HANG_MS, 3 * parseDuration(device.interval));
}

/**
 * The subscription's maxKeepAliveCount: an idle subscription answers a publish with a
 * keep-alive every `count` publishing intervals, here at most a third of the hang bound
 * apart, so one late keep-alive is not yet a hang.
 */
export function keepAliveCount(hangMs: number, publishingMs: number): number {
  return Math.max(1, Math.floor(hangMs / (3 * publishingMs)));
}

/** A hang bound shorter than two publishing intervals would take a quiet server for a hung one. */
export function checkHangTimeout(device: OpcuaDeviceConfig, key: string): void {
  if (device.opcua.hangTimeout === undefined) return;
  const interval = parseDuration(device.interval);
  if (hangTimeoutMs(device) < 2 * interval) {
    throw new CollectorConfigError(
      `${key}.opcua.hangTimeout`,
      `must be at least twice the device's interval (${device.interval}): keep-alives come once per publishing interval at the most`,
    );
  }
}
