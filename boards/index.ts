export { boardFile, boardIds, toolchainFile } from "./board-files.js";
export { BoardError, checkBoard } from "./check-board.js";
export { type Arch, type Board, type BoardPartition, boardSchema } from "./schema.js";
