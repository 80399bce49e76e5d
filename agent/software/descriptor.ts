import type { RealtimeSpec } from "../../realtime/index.js";

/** `software.yaml`, apiVersion outpost/v1: see the design's "Software release descriptor". */
export interface SoftwareDescriptor {
  apiVersion: "outpost/v1";
  name: string;
  version: string;
  build?: BuildSpec;
  instance?: InstanceSpec;
}

export interface FetchSpec {
  /** Relative to the descriptor's own URL, `file:` or `https:`. */
  url: string;
  /** Mandatory; a mismatch fails the install and keeps nothing. */
  sha256: string;
  /** Unpack the archive (any format tar reads) into the build directory. */
  extract?: boolean;
}

export interface BuildSpec {
  fetch?: FetchSpec[];
  steps?: { run: string[] }[];
}

export type RestartPolicy = "always" | "on-failure" | "never";

export interface ProcessSpec {
  name: string;
  command: string[];
  restart?: RestartPolicy;
  env?: Record<string, string>;
  resources?: { cpu?: number; memory?: string | number; pids?: number };
  realtime?: RealtimeSpec;
}

export interface FileSpec {
  path: string;
  mode?: string;
  content: string;
}

export interface PromiseSpec {
  name: string;
  tcp?: string;
  http?: string;
  file?: string;
  command?: string[];
  interval?: string;
  timeout?: string;
}

export interface InstanceSpec {
  /** JSON Schema of the request parameters. */
  parameters?: Record<string, unknown>;
  files?: FileSpec[];
  processes?: ProcessSpec[];
  promises?: PromiseSpec[];
  publish?: Record<string, string>;
  requests?: { name: string; software: string; parameters?: Record<string, unknown> }[];
  /** Syscalls denied on top of the partition default (see partitions/sandbox.ts). */
  seccomp?: { deny?: string[] };
}
