import type { InstallResult, OtaConfig, SlotState } from "../../ota/index.js";
import { loadConfigFile } from "../config/index.js";
import { printState, withJsonOption } from "../output.js";
import type { CommandContext, RegisterCommand } from "../program.js";
import { progressBar } from "../progress-bar.js";

const loadOta = () => import("../../ota/index.js");

async function openStore(file: string) {
  const ota = await loadOta();
  const config = loadConfigFile<OtaConfig>(file, ota.otaConfigSchema);
  return new ota.SlotStore(config);
}

interface StatusView {
  board: string;
  booted: string;
  state: SlotState;
  next: { slot: string; counts: boolean };
}

const renderStatus = (v: StatusView) =>
  [
    `board     ${v.board}`,
    `booted    slot ${v.booted}`,
    ...(["a", "b"] as const).map(
      (s) =>
        `slot ${s}    ${v.state.slots[s].health}${v.state.slots[s].health === "trial" ? ` (${v.state.slots[s].attemptsLeft} boot(s) left)` : ""}`,
    ),
    `order     ${v.state.order.join(" ")}`,
    `next boot slot ${v.next.slot}${v.next.counts ? " (counts one trial boot)" : ""}`,
  ].join("\n");

const renderInstalled = (r: InstallResult) =>
  `installed ${r.board} build ${new Date(r.created * 1000).toISOString()} into slot ${r.slot} (${r.device}, ${r.mappedBytes} bytes written and read back); ` +
  `it boots next, on trial for ${r.attempts} boot(s): reboot to try it`;

/** `outpost ota install|status|mark-good`: A/B updates on a box running an Outpost image. */
export const registerOta: RegisterCommand = (program, context: CommandContext) => {
  const ota = program
    .command("ota")
    .description("A/B updates of this box's root filesystem, with automatic fallback");
  const configOption = [
    "--config <file>",
    "OTA settings of this image",
    "/etc/outpost/ota.json",
  ] as const;

  withJsonOption(
    ota
      .command("install")
      .description(
        "check an update image (signature, board, every block) and write it to the slot not running; it then boots once on trial",
      )
      .argument("<image>", "image built by `outpost image build` for this board")
      .option("--manifest <file>", "manifest (default: IMAGE.manifest.json)")
      .option("--bmap <file>", "block map (default: IMAGE.bmap)")
      .option(...configOption),
  ).action(
    async (
      image: string,
      opts: { manifest?: string; bmap?: string; config: string; json?: boolean },
    ) => {
      const store = await openStore(opts.config);
      const { installUpdate } = await loadOta();
      const bar = progressBar(context.io);
      try {
        const result = await installUpdate({
          image,
          store,
          ...(opts.manifest ? { manifest: opts.manifest } : {}),
          ...(opts.bmap ? { bmap: opts.bmap } : {}),
          onProgress: (phase, done, total) => bar.update(phase, done, total),
        });
        bar.stop();
        printState(context.io, opts, result, renderInstalled);
      } finally {
        bar.stop();
      }
    },
  );

  withJsonOption(
    ota
      .command("status")
      .description("which slot runs, the state of both, and what the next boot picks")
      .option(...configOption),
  ).action(async (opts: { config: string; json?: boolean }) => {
    const store = await openStore(opts.config);
    const { nextBoot } = await loadOta();
    const state = store.read();
    const view: StatusView = {
      board: store.config.board,
      booted: store.booted(),
      state,
      next: nextBoot(state),
    };
    printState(context.io, opts, view, renderStatus);
  });

  ota
    .command("mark-good")
    .description("commit the running slot (what the agent does once its health passes)")
    .option(...configOption)
    .action(async (opts: { config: string }) => {
      const store = await openStore(opts.config);
      const { commitSlot } = await loadOta();
      const booted = store.booted();
      store.write(commitSlot(store.read(), booted));
      context.io.stdout.write(`slot ${booted} committed\n`);
    });
};
