import { InvalidRequestError } from "./errors.js";
import { checkStoreUrl } from "./postgres/connection.js";
import { PgStore } from "./postgres/pg-store.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import type { MasterStore, StoreOptions } from "./store.js";

/** Which store a master keeps its state in (`--store`). */
export type StoreChoice = { kind: "sqlite" } | { kind: "postgres"; url: string };

/**
 * `--store`'s value: `sqlite` (the default: a file in the data directory) or a
 * `postgres://USER@HOST[:PORT]/DB` URL (`?host=/run/postgresql` for a unix socket).
 * Pure; E_MASTER_INVALID naming --store when it is neither, or the URL holds a password.
 */
export function parseStoreOption(text: string | undefined): StoreChoice {
  if (text === undefined || text === "sqlite") return { kind: "sqlite" };
  if (/^postgres(ql)?:\/\//.test(text)) {
    checkStoreUrl(text);
    return { kind: "postgres", url: text };
  }
  throw new InvalidRequestError(
    `--store: expected sqlite or postgres://USER@HOST/DB, got '${text}'`,
  );
}

/** Opens (creating and migrating) the chosen store; SQLite's file is `sqlitePath`. */
export async function openStore(
  choice: StoreChoice,
  sqlitePath: string,
  options: StoreOptions = {},
): Promise<MasterStore> {
  return choice.kind === "sqlite"
    ? SqliteStore.open(sqlitePath, options)
    : PgStore.open(choice.url, options);
}
