/**
 * A new session object builds its schema in one step (CURRENT_SCHEMA) instead of replaying
 * every migration: both ways must give the same tables, columns, types, defaults and keys,
 * or an object created now would differ from one that was migrated to the same version.
 * `createSchema` (one batch, no read first) must build the same, and leave a database that
 * has a schema untouched.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createSchema, migrateSchema } from "../../durable-objects/sqlite-schema.ts";
import { ACTIVITY_SCHEMA } from "../../durable-objects/activity.ts";
import { CURRENT_SCHEMA, MIGRATIONS } from "../../durable-objects/session/store.ts";

type Column = { name: string; type: string; notnull: number; dflt_value: string | null; pk: number };

/** Every table's columns, as SQLite describes them, in a fresh object's storage after `build`. */
async function schemaAfter(build: (sql: SqlStorage) => number): Promise<{ version: number; tables: Record<string, Column[]> }> {
  const stub = env.SESSIONS.get(env.SESSIONS.newUniqueId());
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const version = build(sql);
    const names = sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name")
      .toArray()
      .map((r) => r.name);
    const tables: Record<string, Column[]> = {};
    for (const name of names) {
      tables[name] = sql.exec<Column>("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?)", name).toArray();
    }
    return { version, tables };
  });
}

describe("session store schema", () => {
  it("builds the same schema in one step as by replaying its migrations", async () => {
    const replayed = await schemaAfter((sql) => migrateSchema(sql, MIGRATIONS));
    const direct = await schemaAfter((sql) => migrateSchema(sql, MIGRATIONS, CURRENT_SCHEMA));
    expect(direct.version).toBe(MIGRATIONS.length);
    expect(replayed.version).toBe(MIGRATIONS.length);
    expect(Object.keys(direct.tables)).toEqual(["deadlines", "events", "legs", "meta", "session"]);
    expect(direct.tables).toEqual(replayed.tables);
  });

  it("createSchema builds the same in one batch, with the extra tables and the version", async () => {
    const replayed = await schemaAfter((sql) => migrateSchema(sql, MIGRATIONS));
    const batch = await schemaAfter((sql) => {
      expect(createSchema(sql, MIGRATIONS.length, CURRENT_SCHEMA, ACTIVITY_SCHEMA)).toBe(true);
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM activity").one().n).toBe(1);
      // What migrateSchema reads back: the version it would otherwise write.
      return migrateSchema(sql, MIGRATIONS, CURRENT_SCHEMA);
    });
    expect(batch.version).toBe(MIGRATIONS.length);
    const { activity, ...sessionTables } = batch.tables;
    expect(activity?.map((c) => c.name)).toEqual(["id", "wakes", "active_ms", "requests", "ws_messages"]);
    expect(sessionTables).toEqual(replayed.tables);
  });

  it("createSchema writes nothing to a database that has a schema, and says so", async () => {
    const stub = env.SESSIONS.get(env.SESSIONS.newUniqueId());
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      migrateSchema(sql, MIGRATIONS.slice(0, 2));
      const before = sql.exec("SELECT type, name, sql FROM sqlite_master ORDER BY name").toArray();
      expect(createSchema(sql, MIGRATIONS.length, CURRENT_SCHEMA, ACTIVITY_SCHEMA)).toBe(false);
      expect(sql.exec("SELECT type, name, sql FROM sqlite_master ORDER BY name").toArray()).toEqual(before);
      expect(sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").one().value).toBe("2");
    });
  });
});
