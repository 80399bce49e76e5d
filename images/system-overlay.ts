import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Board } from "../boards/index.js";
import type { OtaConfig } from "../ota/index.js";
import type { DiskPlan } from "./disk-plan.js";
import { ImageInputError } from "./errors.js";
import { GRUB_PREFIX, writeGrubEfi } from "./grub-efi.js";
import { installNodeRuntime } from "./node-runtime.js";
import { stageOutpostBundle } from "./outpost-bundle.js";
import { defaultCacheDir } from "./registry-package.js";

/** What turns a Debian rootfs into an Outpost gateway: agent, A/B boot, mounts. */
export interface SystemOptions {
  /** The master's node endpoint baked into /etc/outpost/agent.env. */
  master?: string;
  /** The master's public key (Z85). */
  masterKey?: string;
  /** PEM public key update manifests must be signed with (the image's own signer by default). */
  releaseKey?: string;
  /** Trial boots an update gets (default 3): a power cut during one does not cost the update. */
  attempts?: number;
  /** Seconds after a trial boot for the agent to become healthy (default 300). */
  healthWindowSeconds?: number;
  /** Root logs in on the serial console without a password: lab and test images only. */
  consoleAutologin?: boolean;
  /** Node.js version shipped (default: the builder's own). */
  nodeVersion?: string;
  /** Where npm registry packages are cached (default ~/.cache/outpost). */
  cacheDir?: string;
}

export const AGENT_DATA_MOUNT = "/var/lib/outpost";
const ESP_MOUNT = "/boot/efi";

function write(root: string, path: string, text: string, mode = 0o644): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
}

function link(root: string, path: string, target: string): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  rmSync(file, { force: true });
  symlinkSync(target, file);
}

function agentUnit(board: Board): string {
  return `[Unit]
Description=Outpost node agent
Wants=network-online.target
After=network-online.target
RequiresMountsFor=${AGENT_DATA_MOUNT} ${ESP_MOUNT}

[Service]
EnvironmentFile=-/etc/outpost/agent.env
EnvironmentFile=-${AGENT_DATA_MOUNT}/agent.env
ExecStart=/opt/outpost/node/bin/node /opt/outpost/app/dist/cli/main.js agent start --data ${AGENT_DATA_MOUNT}/agent --master \${OUTPOST_MASTER} --master-key \${OUTPOST_MASTER_KEY} --board ${board.id} --ota /etc/outpost/ota.json
Restart=always
RestartSec=2
# Workloads live in the agent's delegated cgroup subtree and outlive an agent restart.
Delegate=yes
KillMode=process
LimitRTPRIO=99
LimitMEMLOCK=infinity
StandardOutput=journal
StandardError=journal

[Install]
WantedBy=multi-user.target
`;
}

/**
 * /proc as every gateway mounts it: another account's processes are invisible
 * (`hidepid=invisible`, the kernel's hidepid=2), so no partition can read another's
 * command lines, environment or even pids. Root (the agent) sees all; no `gid=` is
 * given, as no unprivileged service on the image needs to see other accounts'
 * processes. `subset=pid` is not used: it hides /proc/sys, /proc/meminfo and the rest
 * that the agent, Node and the partitions' tools read. systemd mounts /proc before
 * fstab is read and systemd-remount-fs applies these options to it.
 */
export const PROC_FSTAB_LINE = "proc /proc proc defaults,hidepid=invisible 0 0";

/**
 * Adds the Outpost system to a staged rootfs and fills the ESP: Node.js and the bundle
 * under /opt/outpost, the agent's unit (enabled), the master endpoint, the OTA settings
 * and release key, fstab by PARTLABEL (ESP, data partition for agent state and
 * buffers) with /proc hiding other accounts' processes, DHCP on wired links, and GRUB with the A/B script. No node secret: the
 * agent makes its key pair on the data partition at first boot, systemd the machine id.
 */
export async function applySystemOverlay(
  board: Board,
  plan: DiskPlan,
  root: string,
  boot: string,
  options: SystemOptions,
  signal?: AbortSignal,
): Promise<void> {
  if (board.bootloader.slotSelection !== "grub-env") {
    throw new ImageInputError(
      `board ${board.id}: A/B boot by ${board.bootloader.slotSelection} is not built yet; only grub-env boards take an Outpost system (use --plain)`,
      "bootloader.slotSelection",
    );
  }
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const nodeVersion = options.nodeVersion ?? process.versions.node;
  await installNodeRuntime(
    board.arch,
    nodeVersion,
    join(root, "opt/outpost/node"),
    cacheDir,
    signal,
  );
  await stageOutpostBundle(board.arch, join(root, "opt/outpost/app"), cacheDir, signal);
  await writeGrubEfi(board, plan, root, boot, signal);
  link(root, "usr/local/bin/node", "/opt/outpost/node/bin/node");
  write(
    root,
    "usr/local/bin/outpost",
    '#!/bin/sh\nexec /opt/outpost/node/bin/node /opt/outpost/app/dist/cli/main.js "$@"\n',
    0o755,
  );
  if (options.master && options.masterKey) {
    write(
      root,
      "etc/outpost/agent.env",
      // Quoted: Z85 keys hold $, # and %, never a single quote.
      `OUTPOST_MASTER='${options.master}'\nOUTPOST_MASTER_KEY='${options.masterKey}'\n`,
    );
  }
  const slot = (role: string) => {
    const p = plan.partitions.find((x) => x.role === role) as DiskPlan["partitions"][number];
    return { device: `/dev/disk/by-partuuid/${p.partuuid}`, partuuid: p.partuuid };
  };
  const ota: OtaConfig = {
    board: board.id,
    slotSelection: "grub-env",
    env: `${ESP_MOUNT}${GRUB_PREFIX}/grubenv`,
    slots: { a: slot("rootfs-a"), b: slot("rootfs-b") },
    key: "/etc/outpost/release.pub",
    attempts: options.attempts ?? 3,
    healthWindowSeconds: options.healthWindowSeconds ?? 300,
  };
  write(root, "etc/outpost/ota.json", `${JSON.stringify(ota, null, 2)}\n`);
  if (options.releaseKey) write(root, "etc/outpost/release.pub", options.releaseKey);
  write(root, "etc/systemd/system/outpost-agent.service", agentUnit(board));
  link(
    root,
    "etc/systemd/system/multi-user.target.wants/outpost-agent.service",
    "/etc/systemd/system/outpost-agent.service",
  );
  const label = (role: string) => plan.partitions.find((p) => p.role === role)?.label as string;
  write(
    root,
    "etc/fstab",
    [
      "# Outpost: partitions by PARTLABEL, never by device order.",
      `PARTLABEL=${label("boot")} ${ESP_MOUNT} vfat umask=0077 0 2`,
      `PARTLABEL=${label("data")} ${AGENT_DATA_MOUNT} ext4 defaults 0 2`,
      PROC_FSTAB_LINE,
      "",
    ].join("\n"),
  );
  mkdirSync(join(root, AGENT_DATA_MOUNT), { recursive: true });
  mkdirSync(join(root, ESP_MOUNT), { recursive: true });
  write(
    root,
    "etc/systemd/network/20-wired.network",
    "[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n",
  );
  const networkd = "/lib/systemd/system";
  link(
    root,
    "etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
    `${networkd}/systemd-networkd.service`,
  );
  link(
    root,
    "etc/systemd/system/sockets.target.wants/systemd-networkd.socket",
    `${networkd}/systemd-networkd.socket`,
  );
  link(
    root,
    "etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service",
    `${networkd}/systemd-networkd-wait-online.service`,
  );
  write(root, "etc/hostname", "outpost\n");
  write(root, "etc/hosts", "127.0.0.1 localhost\n127.0.1.1 outpost\n");
  write(root, "etc/machine-id", "");
  if (options.consoleAutologin) {
    const tty = board.console.split(",")[0] as string;
    write(
      root,
      `etc/systemd/system/serial-getty@${tty}.service.d/autologin.conf`,
      "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 %I $TERM\n",
    );
  }
}
