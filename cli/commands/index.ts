import type { RegisterCommand } from "../program.js";

/** Every command the `outpost` binary registers; each component adds its own here. */
export const commands: readonly RegisterCommand[] = [];
