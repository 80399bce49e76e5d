import { existsSync } from "node:fs";
import { join } from "node:path";
import { Option } from "commander";
import {
  BufferInputError,
  type BufferStat,
  DiskBuffer,
  type FsyncPolicy,
  readUndelivered,
  STREAM_NAME,
  statBuffer,
} from "../../buffer/index.js";
import { printState, withJsonOption } from "../output.js";
import type { CommandContext, RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";
import { lineOf, loadRecordDecoder, writeOut } from "./stored-records.js";

/**
 * `outpost buffer push|cat|stat`: feed and inspect a buffer directory by hand (debug and
 * operations). Flags use the buffer's config words (`--fsync`, `--stream`).
 */
export const registerBuffer: RegisterCommand = (program, context) => {
  const buffer = program
    .command("buffer")
    .description("feed and inspect a disk-backed telemetry buffer directory");

  buffer
    .command("push")
    .description(
      "append one record per stdin line (NDJSON); after each durable commit print the number of records of this run that are durable so far. Blank lines are skipped; a line that is not JSON stops the run (exit 1) after the records before it are durable",
    )
    .argument("<dir>", "buffer directory (created if missing)")
    .option("--stream <name>", "stream to append to", "default")
    .addOption(
      new Option("--fsync <policy>", "when a commit counts as durable")
        .choices(["always", "batch", "never"])
        .default("batch"),
    )
    .action(async (dir: string, opts: { stream: string; fsync: FsyncPolicy }) => {
      checkStream(opts.stream);
      await push(dir, opts, context);
    });

  buffer
    .command("cat")
    .description(
      "print the undelivered records as NDJSON, in append order: a collector's records decoded (as `collector read --json` prints them: 64-bit integers as decimal strings), any other record exactly as pushed",
    )
    .argument("<dir>", "buffer directory")
    .option("--stream <name>", "only this stream (default: every stream, in chunk order)")
    .option("--raw", "print every record's bytes as stored (a collector's: Avro), one per line")
    .action(async (dir: string, opts: { stream?: string; raw?: boolean }) => {
      if (opts.stream !== undefined) checkStream(opts.stream);
      checkBufferDir(dir);
      await cat(dir, opts, context);
    });

  withJsonOption(
    buffer
      .command("stat")
      .description("backlog, chunks, bytes, oldest undelivered age, drops and corruption")
      .argument("<dir>", "buffer directory"),
  ).action(async (dir: string, opts: { json?: boolean }) => {
    checkBufferDir(dir);
    printState(context.io, opts, await statBuffer(dir), human);
  });
};

function checkStream(name: string): void {
  if (!STREAM_NAME.test(name)) {
    throw new UsageError(`--stream '${name}': must match ${STREAM_NAME.source}`);
  }
}

function checkBufferDir(dir: string): void {
  if (!existsSync(join(dir, "streams"))) {
    throw new BufferInputError(`${dir} is not a buffer directory (no streams/ in it)`);
  }
}

async function push(
  dir: string,
  opts: { stream: string; fsync: FsyncPolicy },
  context: CommandContext,
): Promise<void> {
  const io = context.io;
  const buffer = await DiskBuffer.open(
    { dir, streams: { [opts.stream]: { fsync: opts.fsync } } },
    { logger: context.logger().child({ component: "buffer" }) },
  );
  let durable = 0;
  let printing = false;
  // One line per commit: every append settled by one commit resolves in the same turn.
  const report = () => {
    if (printing) return;
    printing = true;
    setImmediate(() => {
      printing = false;
      io.stdout.write(`${durable}\n`);
    });
  };
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  let bad: BufferInputError | undefined;
  let lineNo = 0;
  let rest: Buffer = Buffer.alloc(0);

  const submit = (records: Buffer[]) => {
    const p = buffer.append(opts.stream, records).then(
      () => {
        durable += records.length;
        report();
      },
      (err: unknown) => {
        failure ??= err;
      },
    );
    pending.add(p);
    p.finally(() => pending.delete(p)).catch(() => undefined);
  };
  const take = (line: Buffer, records: Buffer[]): boolean => {
    lineNo++;
    if (line.toString("latin1").trim() === "") return true;
    try {
      JSON.parse(line.toString("utf8"));
    } catch (err) {
      bad = new BufferInputError(
        `stdin line ${lineNo}: not valid JSON (${(err as Error).message}); the records before it are pushed, nothing after it was read`,
      );
      return false;
    }
    records.push(line);
    return true;
  };

  try {
    reading: for await (const data of process.stdin as AsyncIterable<Buffer>) {
      const text = rest.length > 0 ? Buffer.concat([rest, data]) : data;
      const records: Buffer[] = [];
      let start = 0;
      for (let nl = text.indexOf(10); nl !== -1; nl = text.indexOf(10, start)) {
        const ok = take(Buffer.from(text.subarray(start, nl)), records);
        start = nl + 1;
        if (!ok) {
          if (records.length > 0) submit(records);
          break reading;
        }
      }
      rest = Buffer.from(text.subarray(start));
      if (records.length > 0) submit(records);
      // Backpressure: the buffer's memory stage bounds bytes, this bounds promises.
      while (pending.size >= 64) await Promise.race(pending);
      if (failure) break;
    }
    if (!bad && !failure && rest.length > 0) {
      const records: Buffer[] = [];
      if (take(rest, records) && records.length > 0) submit(records);
    }
    await Promise.all(pending);
  } finally {
    await buffer.close();
  }
  if (failure) throw failure;
  if (bad) throw bad;
}

async function cat(
  dir: string,
  opts: { stream?: string; raw?: boolean },
  context: CommandContext,
): Promise<void> {
  const decoder = opts.raw ? undefined : await loadRecordDecoder();
  const logger = context.logger();
  let out: Buffer[] = [];
  let size = 0;
  for await (const record of readUndelivered(dir, { stream: opts.stream })) {
    const line = decoder
      ? lineOf(record, decoder, decoder.jsonLine, logger)
      : Buffer.concat([record.payload, NEWLINE]);
    if (!line) continue;
    out.push(line);
    size += line.length;
    if (size >= 1 << 16) {
      await writeOut(context.io, Buffer.concat(out));
      out = [];
      size = 0;
    }
  }
  if (out.length > 0) await writeOut(context.io, Buffer.concat(out));
}

const NEWLINE = Buffer.from("\n");

function human(s: BufferStat): string {
  const lines = [
    `backlog: ${s.backlogRecords} records in ${s.backlogChunks} chunks, ${s.backlogBytes} bytes; oldest ${Math.round(s.oldestUndeliveredAgeMs / 1000)} s`,
    `delivered: ${s.deliveredRecords} records in ${s.deliveredChunks} chunks`,
    `dropped: ${s.droppedRecords} records in ${s.droppedChunks} chunks`,
    `corrupt: ${s.corruptChunks} chunks, ${s.lostRecords} records lost; ${s.quarantinedFiles} files in corrupt/`,
    `loss events not yet reported: ${s.pendingLossEvents}; checkpoint ${s.checkpoint}`,
  ];
  for (const [name, m] of Object.entries(s.streams)) {
    lines.push(
      `stream ${name}: ${m.backlogRecords} records, ${m.backlogChunks} chunks, ${m.backlogBytes} bytes${m.damagedChunks ? `, ${m.damagedChunks} damaged` : ""}`,
    );
  }
  return lines.join("\n");
}
