/**
 * Versioned SQLite schemas for Durable Objects: each object keeps its schema version in a
 * `meta` table and runs the migrations it has not run yet, in order, so an object whose
 * storage was written by an older deployment keeps working after an upgrade.
 */

/**
 * Runs `migrations[version..]` (index = version it upgrades from); returns the new version.
 * `current`, if given, is the whole schema at the last version: a new object (version 0)
 * runs it instead of every migration in turn — one step, where each ALTER TABLE of the
 * replay rewrites and re-reads the schema (a session object is new on every S request).
 * It must build what the migrations build (test/unit/sqlite-schema.test.ts compares them).
 */
export function migrateSchema(sql: SqlStorage, migrations: readonly string[], current?: string): number {
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").toArray()[0];
  const stored = row === undefined ? 0 : Number(row.value);
  let version = stored;
  if (version === 0 && current !== undefined) {
    sql.exec(current);
    version = migrations.length;
  }
  for (; version < migrations.length; version++) {
    const step = migrations[version];
    if (step !== undefined) sql.exec(step);
  }
  // An object already at this version (every wake-up of an existing one) writes nothing.
  if (version !== stored || row === undefined) {
    sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", String(version));
  }
  return version;
}

/**
 * A new object's whole schema (`current`, at `version`) and whatever `extra` tables its
 * other parts keep, in one batch whose first statement creates `meta`. On a database that
 * has a schema already that statement fails before anything ran: nothing is written, and
 * this returns false (the caller migrates instead). One batch on an empty database, and no
 * read before it, is what creating a session object costs least: each CREATE TABLE
 * changes the schema, and every statement prepared before it is prepared again.
 */
export function createSchema(sql: SqlStorage, version: number, current: string, extra = ""): boolean {
  try {
    sql.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta (key, value) VALUES ('schema_version', '${version}');
      ${current};
      ${extra}`);
    return true;
  } catch (err) {
    if (err instanceof Error && /\bmeta\b.*already exists/.test(err.message)) return false;
    throw err;
  }
}
