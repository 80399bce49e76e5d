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
      message: new RegExp(
        `schema version ${MIGRATIONS.length + 1} is newer than this master supports \\(${MIGRATIONS.length}\\)`,
      ),
    });
  });

  it("migrates a database of the first schema, keeping its instances (no parent)", async () => {
    const path = join(dir, "master.db");
    const db = new Database(path);
    db.exec(MIGRATIONS[0] ?? "");
    db.pragma("user_version = 1");
    db.exec(`INSERT INTO nodes (name, public_key, added_at) VALUES ('gw', 'k', 1);
      INSERT INTO instances (name, software, parameters, node, partition, cores, requested_state,
        status, created_at, updated_at) VALUES ('e', 'sw', '{}', 'gw', 0, '[]', 'started', 'pending', 1, 1)`);
    db.close();
    const store = SqliteStore.open(path);
    assert.equal((await store.getInstance("e"))?.parent, null);
    await store.close();
  });
});
