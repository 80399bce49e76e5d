import { SingleBar } from "cli-progress";
import type { CliIo } from "./io.js";

/** A byte progress bar on stderr when it is a terminal; nothing otherwise. */
export function progressBar(io: CliIo): {
  update(label: string, done: number, total: number): void;
  stop(): void;
} {
  if (!io.isTty) return { update() {}, stop() {} };
  const bar = new SingleBar({
    stream: io.stderr as NodeJS.WritableStream,
    format: "{label} [{bar}] {percentage}% {doneMB}/{totalMB} MB {rate} MB/s",
    hideCursor: true,
    clearOnComplete: true,
  });
  let phase = "";
  let started = Date.now();
  let running = false;
  return {
    update(label, done, total) {
      // Throughput per phase: verify reads start from zero again.
      if (label !== phase) {
        phase = label;
        started = Date.now();
      }
      const payload = {
        label: label.padEnd(11),
        doneMB: (done / 1e6).toFixed(0),
        totalMB: (total / 1e6).toFixed(0),
        rate: (done / 1e3 / Math.max(1, Date.now() - started)).toFixed(1),
      };
      if (!running) {
        bar.start(total, done, payload);
        running = true;
      } else bar.update(done, payload);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/** A progress bar of things counted (readings, records) on stderr when it is a terminal. */
export function countBar(
  io: CliIo,
  unit: string,
): { update(done: number, total: number): void; stop(): void } {
  if (!io.isTty) return { update() {}, stop() {} };
  const bar = new SingleBar({
    stream: io.stderr as NodeJS.WritableStream,
    format: `[{bar}] {percentage}% {value}/{total} ${unit} {rate}/s`,
    hideCursor: true,
    clearOnComplete: true,
  });
  const started = Date.now();
  let running = false;
  return {
    update(done, total) {
      const payload = { rate: Math.round((done * 1000) / Math.max(1, Date.now() - started)) };
      if (!running) {
        bar.start(total, done, payload);
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
