import { generateKeyPairSync } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import {
  type Board,
  type BoardError,
  boardFile,
  boardIds,
  boardSchema,
  checkBoard,
} from "../../boards/index.js";
import { hasCode } from "../../common/errors.js";
import type { ImageManifest } from "../../image-format/index.js";
import type { BuiltImage, FlashResult } from "../../images/index.js";
import { ConfigError, issueAtKey, loadConfigFile } from "../config/index.js";
import { printState, withJsonOption } from "../output.js";
import type { CommandContext, RegisterCommand } from "../program.js";
import { progressBar } from "../progress-bar.js";
import { UsageError } from "../usage-error.js";

/** Exit status after SIGINT, as shells report a command killed by it. */
const EXIT_INTERRUPTED = 130;

/** Loaded on use so other commands do not pay for the image builder at start-up. */
const loadImages = () => import("../../images/index.js");

/** A shipped board id or a board YAML file, validated; bad files are E_CONFIG with file:line. */
export function loadBoard(idOrPath: string): Board {
  const file = boardFile(idOrPath);
  if (!file) {
    throw new UsageError(
      `--board '${idOrPath}': no such board (known: ${boardIds().join(", ")}; or a .yaml file)`,
    );
  }
  const board = loadConfigFile<Board>(file, boardSchema);
  try {
    checkBoard(board);
  } catch (err) {
    if (hasCode<BoardError>(err, "E_BOARD")) {
      throw new ConfigError(file, [issueAtKey(file, err.key, err.reason)]);
    }
    throw err;
  }
  return board;
}

function attempts(text: string): number {
  if (!/^[1-9]$/.test(text)) throw new InvalidArgumentError("expected 1 to 9.");
  return Number(text);
}

function healthWindow(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 5 || n > 86400)
    throw new InvalidArgumentError("expected whole seconds from 5 to 86400.");
  return n;
}

function epoch(text: string): number {
  if (!/^\d+$/.test(text))
    throw new InvalidArgumentError("must be seconds since 1970 (an integer).");
  return Number(text);
}

const renderBuilt = (b: BuiltImage) =>
  [
    `image     ${b.image} (${b.manifest.manifest.image.size} bytes, ${b.mappedBytes} mapped)`,
    `bmap      ${b.bmap}`,
    `manifest  ${b.manifestFile} (${b.manifest.signature ? `signed, key ${b.manifest.signature.keyId}` : "unsigned"})`,
    `sha256    ${b.manifest.manifest.image.sha256}`,
  ].join("\n");

const renderVerified = (m: ImageManifest) =>
  [
    `verified  ${m.board} (${m.arch}) image, signature and sha256 of every partition match`,
    ...m.partitions.map((p) => `  ${p.label.padEnd(10)} ${p.partuuid}  ${p.sha256}`),
  ].join("\n");

const renderFlashed = (r: FlashResult) =>
  `wrote ${r.mappedBytes} of ${r.imageSize} bytes to ${r.target} in ${r.writeSeconds.toFixed(2)} s ` +
  `(${r.writeMBps.toFixed(1)} MB/s), read back and verified in ${r.verifySeconds.toFixed(2)} s`;

/** `outpost image boards|board|build|verify|flash|keygen`. */
export const registerImage: RegisterCommand = (program, context: CommandContext) => {
  const image = program
    .command("image")
    .description("build, sign, verify and flash gateway images for a board");

  withJsonOption(image.command("boards").description("list the shipped boards")).action(
    (opts: { json?: boolean }) => {
      const boards = boardIds().map((id) => loadBoard(id));
      printState(context.io, opts, boards, (list) =>
        list
          .map(
            (b) =>
              `${b.id.padEnd(22)} ${b.arch.padEnd(8)} ${b.bootloader.type.padEnd(13)} ${b.description}`,
          )
          .join("\n"),
      );
    },
  );

  withJsonOption(
    image
      .command("board")
      .description(
        "validate a board (shipped id or YAML file) and print it with defaults filled in",
      )
      .argument("<board>", "board id or .yaml file"),
  ).action((board: string, opts: { json?: boolean }) => {
    printState(context.io, opts, loadBoard(board), (b) => JSON.stringify(b, null, 2));
  });

  withJsonOption(
    image
      .command("build")
      .description(
        "build FILE, FILE.bmap and FILE.manifest.json for a board: rootfs, Outpost agent and A/B boot, no loop mounts",
      )
      .requiredOption("--board <board>", "board id or .yaml file")
      .requiredOption("--out <file>", "image file to write")
      .option(
        "--rootfs <tarball>",
        "root filesystem tarball (its boot/efi or boot/firmware fills the boot partition)",
      )
      .option("--debootstrap", "make the rootfs with debootstrap (Debian bookworm) first")
      .option(
        "--master <endpoint>",
        "the master's node endpoint the agent reports to, tcp://HOST:PORT",
      )
      .option("--master-key <key>", "the master's public key (Z85, `outpost master key`)")
      .option(
        "--sign <keyfile>",
        "PEM ed25519 private key signing the manifest (its public half verifies updates on the box)",
      )
      .option("--attempts <n>", "trial boots an update gets before falling back", attempts, 3)
      .option(
        "--health-window <seconds>",
        "how long a trial boot has to become healthy",
        healthWindow,
        300,
      )
      .option(
        "--console-autologin",
        "root logs in on the serial console without a password (lab images only)",
      )
      .option("--plain", "the rootfs as it is: no Outpost system, no A/B boot")
      .option(
        "--source-date-epoch <seconds>",
        "time stamped everywhere (default: $SOURCE_DATE_EPOCH, else the newest mtime in the rootfs)",
        epoch,
      ),
  ).action(
    async (opts: {
      board: string;
      out: string;
      rootfs?: string;
      debootstrap?: boolean;
      master?: string;
      masterKey?: string;
      sign?: string;
      attempts: number;
      healthWindow: number;
      consoleAutologin?: boolean;
      plain?: boolean;
      sourceDateEpoch?: number;
      json?: boolean;
    }) => {
      if ((opts.rootfs === undefined) === (opts.debootstrap !== true)) {
        throw new UsageError("give exactly one of --rootfs TARBALL and --debootstrap");
      }
      if ((opts.master === undefined) !== (opts.masterKey === undefined)) {
        throw new UsageError("--master and --master-key go together");
      }
      if (opts.master !== undefined && !/^tcp:\/\/[^\s/]+:\d{1,5}$/.test(opts.master)) {
        throw new UsageError(`--master: expected tcp://HOST:PORT, got '${opts.master}'`);
      }
      if (opts.masterKey !== undefined) {
        const { isKeyText } = await import("../../protocol/index.js");
        if (!isKeyText(opts.masterKey))
          throw new UsageError("--master-key: expected the master's 40-character Z85 public key");
      }
      if (opts.plain && (opts.master || opts.consoleAutologin)) {
        throw new UsageError("--plain images carry no agent: drop --master/--console-autologin");
      }
      const board = loadBoard(opts.board);
      const envEpoch = process.env.SOURCE_DATE_EPOCH;
      if (envEpoch !== undefined && !/^\d+$/.test(envEpoch)) {
        throw new UsageError(`SOURCE_DATE_EPOCH '${envEpoch}': must be seconds since 1970`);
      }
      const sourceDateEpoch =
        opts.sourceDateEpoch ?? (envEpoch === undefined ? undefined : Number(envEpoch));
      const { buildImage, debootstrapRootfs } = await loadImages();
      const bar = progressBar(context.io);
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once("SIGINT", onSigint);
      let madeRootfs: string | undefined;
      try {
        if (opts.debootstrap) {
          madeRootfs = `${opts.out}.rootfs.tar`;
          context.io.stderr.write(
            `outpost: debootstrap of the ${board.arch} rootfs (a few minutes)\n`,
          );
          await debootstrapRootfs({ board, out: madeRootfs, signal: controller.signal });
        }
        const built = await buildImage({
          board,
          rootfs: madeRootfs ?? (opts.rootfs as string),
          out: opts.out,
          signKey: opts.sign,
          sourceDateEpoch,
          ...(opts.plain
            ? {}
            : {
                system: {
                  attempts: opts.attempts,
                  healthWindowSeconds: opts.healthWindow,
                  ...(opts.master ? { master: opts.master, masterKey: opts.masterKey } : {}),
                  ...(opts.consoleAutologin ? { consoleAutologin: true } : {}),
                },
              }),
          onProgress: (p) => bar.update(p.step, p.done, p.total),
          signal: controller.signal,
        });
        bar.stop();
        printState(context.io, opts, built, renderBuilt);
      } catch (err) {
        bar.stop();
        if (!controller.signal.aborted) throw err;
        context.io.stderr.write("outpost: image build interrupted; nothing was written\n");
        process.exitCode = EXIT_INTERRUPTED;
      } finally {
        bar.stop();
        process.off("SIGINT", onSigint);
        if (madeRootfs) rmSync(madeRootfs, { force: true });
      }
    },
  );

  image
    .command("rootfs")
    .description(
      "make a rootfs tarball for a board with debootstrap (Debian bookworm), for --rootfs",
    )
    .requiredOption("--board <board>", "board id or .yaml file")
    .requiredOption("--out <tarball>", "tarball to write")
    .action(async (opts: { board: string; out: string }) => {
      const board = loadBoard(opts.board);
      const { debootstrapRootfs } = await loadImages();
      context.io.stdout.write(`${await debootstrapRootfs({ board, out: opts.out })}\n`);
    });

  withJsonOption(
    image
      .command("verify")
      .description(
        "check FILE against its signed manifest: signature, bmap, every partition, whole image",
      )
      .argument("<file>", "image file")
      .requiredOption("--key <pubkey>", "PEM ed25519 public key the manifest must be signed with")
      .option("--manifest <file>", "manifest (default: FILE.manifest.json)"),
  ).action(async (file: string, opts: { key: string; manifest?: string; json?: boolean }) => {
    const { verifyImage } = await loadImages();
    printState(context.io, opts, verifyImage(file, opts.key, opts.manifest), renderVerified);
  });

  withJsonOption(
    image
      .command("flash")
      .description(
        "copy the image's mapped blocks to a device or file, then read them back and compare",
      )
      .argument("<file>", "image file")
      .requiredOption("--to <target>", "block device or file")
      .option("--bmap <file>", "block map (default: FILE.bmap)")
      .option("--yes", "confirm that a block device is overwritten"),
  ).action(
    async (file: string, opts: { to: string; bmap?: string; yes?: boolean; json?: boolean }) => {
      const { flashImage } = await loadImages();
      const bar = progressBar(context.io);
      try {
        const result = await flashImage({
          image: file,
          bmap: opts.bmap,
          target: opts.to,
          yes: opts.yes === true,
          onProgress: (done, total, phase) => bar.update(phase, done, total),
        });
        bar.stop();
        printState(context.io, opts, result, renderFlashed);
      } finally {
        bar.stop();
      }
    },
  );

  image
    .command("keygen")
    .description(
      "write an ed25519 key pair for signing images: PREFIX.key (mode 0600) and PREFIX.pub",
    )
    .requiredOption("--out <prefix>", "path prefix of the two files")
    .action((opts: { out: string }) => {
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      writeFileSync(`${opts.out}.key`, privateKey.export({ type: "pkcs8", format: "pem" }), {
        mode: 0o600,
        flag: "wx",
      });
      writeFileSync(`${opts.out}.pub`, publicKey.export({ type: "spki", format: "pem" }), {
        flag: "wx",
      });
      context.io.stdout.write(`${opts.out}.key\n${opts.out}.pub\n`);
    });
};
