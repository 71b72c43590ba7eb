/**
 * What the edge's Durable Objects left on disk, read straight from the Miniflare persist
 * directory (`persistDir`): one SQLite file per object that ever started, so a count of
 * files is a count of objects created, and what each database holds is its storage.
 *
 * Local workerd opens an object's database when the object starts, so an object that
 * wrote nothing still leaves an empty 4 KiB file (no table, no row): "storage" here is
 * what the database holds, and an object that started is counted by its file.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

export interface ObjectStorage {
  readonly file: string;
  /** Tables the object created (workerd's own `_cf_*` tables aside). */
  readonly tables: number;
  /** Bytes the database holds: pages in use × page size (the empty database: one page). */
  readonly bytes: number;
}

/** Every object of a Durable Object class that ever started, with what its database holds. */
export async function persistedObjects(persistDir: string, className: string): Promise<ObjectStorage[]> {
  const dir = join(persistDir, "do", `push-edge-${className}`);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: ObjectStorage[] = [];
  for (const name of names) {
    if (!name.endsWith(".sqlite") || name === "metadata.sqlite") continue;
    out.push(readObject(join(dir, name)));
  }
  return out;
}

function readObject(file: string): ObjectStorage {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const tables = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").get() as { n: number };
    const pages = db.prepare("PRAGMA page_count").get() as { page_count: number };
    const size = db.prepare("PRAGMA page_size").get() as { page_size: number };
    const free = db.prepare("PRAGMA freelist_count").get() as { freelist_count: number };
    return { file, tables: tables.n, bytes: (pages.page_count - free.freelist_count) * size.page_size };
  } finally {
    db.close();
  }
}

/** Rows in every registry shard (OriginSessions objects): the sessions the registry counts. */
export async function registryEntries(persistDir: string): Promise<number> {
  const dir = join(persistDir, "do", "push-edge-OriginSessions");
  const names = await readdir(dir).catch(() => [] as string[]);
  let total = 0;
  for (const name of names) {
    if (!name.endsWith(".sqlite") || name === "metadata.sqlite") continue;
    const db = new DatabaseSync(join(dir, name), { readOnly: true });
    try {
      const has = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").get() as { n: number };
      if (has.n > 0) total += (db.prepare("SELECT COUNT(*) AS n FROM sessions").get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
  return total;
}

/** Bytes of an object's files on disk (database, WAL, shared memory), for the storage figures. */
export async function fileBytes(file: string): Promise<number> {
  let total = 0;
  for (const suffix of ["", "-wal", "-shm"]) total += await stat(`${file}${suffix}`).then((s) => s.size, () => 0);
  return total;
}
