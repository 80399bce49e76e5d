import { renderTable } from "../../common/index.js";
import type { NodePresence } from "../../master/index.js";
import { printState, withJsonOption } from "../output.js";
import type { RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";
import { formatTime } from "./format-time.js";
import { masterClient, withMasterOptions } from "./master-client.js";

/** `outpost node add|list`: the nodes the master admits. */
export const registerNode: RegisterCommand = (program, context) => {
  const node = program.command("node").description("nodes known to the master");

  withMasterOptions(
    node
      .command("add <name>")
      .description(
        "admit a node by its public key (generated on the node; its secret never leaves it)",
      )
      .requiredOption("--key <pubkey>", "the node's CURVE public key (Z85, 40 characters)"),
  ).action(async (name: string, options: { key: string; master?: string; tokenFile?: string }) => {
    const { isKeyText } = await import("../../protocol/index.js");
    const key: string = options.key;
    if (!isKeyText(key)) {
      throw new UsageError(
        `--key: expected the node's CURVE public key, 40 characters of Z85, got '${options.key.slice(0, 48)}'`,
      );
    }
    const added = await (await masterClient(options)).addNode(name, options.key);
    context.io.stdout.write(`added node ${added.name}\n`);
  });

  withJsonOption(withMasterOptions(node.command("list").description("list nodes"))).action(
    async (options: { json?: boolean; master?: string; tokenFile?: string }) => {
      const nodes = await (await masterClient(options)).listNodes();
      printState(context.io, options, { nodes }, (s) => renderNodes(s.nodes));
    },
  );
};

function renderNodes(nodes: NodePresence[]): string {
  if (nodes.length === 0) return "no nodes";
  return renderTable([
    ["NAME", "ONLINE", "LAST SEEN", "KEY", "ARCH", "BOARD", "CPUS", "PARTITIONS", "RT CORES"],
    ...nodes.map((n) => [
      n.name,
      n.online ? "yes" : "no",
      formatTime(n.lastSeen),
      n.publicKey,
      n.arch ?? "-",
      n.board ?? "-",
      n.cpus === null ? "-" : String(n.cpus),
      String(n.partitions),
      n.isolatedCores.length > 0 ? n.isolatedCores.join(",") : "-",
    ]),
  ]);
}
