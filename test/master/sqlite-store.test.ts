import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SqliteStore } from "../../master/index.js";
import { MIGRATIONS } from "../../master/sqlite/migrations.js";
import { storeConformance } from "./store-conformance.js";

storeConformance("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-store-"));
  const path = join(dir, "master.db");
  const fixture = {
    store: SqliteStore.open(path),
    async reopen() {
      await fixture.store.close();
      fixture.store = SqliteStore.open(path);
      return fixture.store;
    },
    async cleanup() {
      await fixture.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
});

describe("SqliteStore", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-store-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("opens in WAL mode with full sync and records the schema version", async () => {
    const path = join(dir, "master.db");
    await SqliteStore.open(path).close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("user_version", { simple: true }), MIGRATIONS.length);
    db.close();
  });

  it("refuses a database written by a newer master", () => {
    const path = join(dir, "master.db");
    const db = new Database(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    assert.throws(() => SqliteStore.open(path), {
      code: "E_MASTER_STORE_VERSION",
      message: /schema version 2 is newer than this master supports \(1\)/,
    });
  });
});
