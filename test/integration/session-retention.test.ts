/**
 * What is left when a session ends (issue 14) and when a forgotten one ends (issue 16 F3):
 *
 * - an ended session keeps its record and event log for the pool's retention, readable
 *   through the admin API; then its object deletes everything — its database holds no
 *   table — its registry row is gone, and the admin lookup says `404 session_not_found`,
 *   "expired from retention";
 * - a session whose connections are all gone and which made no CR for the idle time ends
 *   with reason `idle`; one with a stream still open does not.
 *
 * Also prints the storage one session costs, live / ended and kept / forgotten, for the
 * README's figures.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson, openSse } from "./support/http-clients.ts";
import { fileBytes, persistedObjects, registryEntries, type ObjectStorage } from "./support/persisted-objects.ts";
import { endSession, sessionKeyOf } from "./support/session-end.ts";
import { testStack } from "./support/stack.ts";
import { sleep, withTimeout } from "./support/wait.ts";

const RETENTION_SECONDS = 4;
const IDLE_SECONDS = 5;

let persistDir: string;
let stack: RunningStack;

beforeAll(async () => {
  persistDir = await mkdtemp(join(tmpdir(), "push-edge-retention-"));
  stack = await testStack({
    originCount: 1,
    persistDir,
    poolSettings: { sessionLifetime: { retentionSeconds: RETENTION_SECONDS, idleSeconds: IDLE_SECONDS } },
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await rm(persistDir, { recursive: true, force: true });
});

async function createSession(): Promise<{ token: string; id: string }> {
  const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { id: string };
  return { token: res.headers.get("x-affinity-token") ?? "", id: body.id };
}

function lookup(key: string) {
  return httpJson(`${stack.edgeUrl}/_edge/admin/sessions/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
}

async function objectOf(sk: string): Promise<ObjectStorage> {
  // The object's file is named by its id, not its key: the one whose database holds `sk`.
  const { DatabaseSync } = await import("node:sqlite");
  for (const o of await persistedObjects(persistDir, "SessionObject")) {
    if (o.tables === 0) continue;
    const db = new DatabaseSync(o.file, { readOnly: true });
    try {
      const row = db.prepare("SELECT sk FROM session WHERE id = 1").get() as { sk: string } | undefined;
      if (row?.sk === sk) return o;
    } finally {
      db.close();
    }
  }
  throw new Error(`no object holds session ${sk}`);
}

/** Polls, bounded, until `check` answers something other than undefined. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  return withTimeout(
    (async () => {
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        await sleep(250);
      }
    })(),
    ms,
    what,
  );
}

describe("ended sessions leave nothing behind", () => {
  it("keeps record and event log for the retention, then deletes all storage; the lookup says expired from retention", async () => {
    const { token } = await createSession();
    const sk = sessionKeyOf(token);
    const live = await objectOf(sk);
    const liveFiles = await fileBytes(live.file);

    expect((await endSession(stack, token, "admin")).status).toBe(200);
    const kept = await lookup(sk);
    expect(kept.status).toBe(200);
    const view = kept.body as { session: { state: string }; events: Array<{ kind: string; detail: { reason?: string } }> };
    expect(view.session.state).toBe("ended");
    expect(view.events.map((e) => e.kind)).toEqual(["created", "ended"]);
    const ended = await objectOf(sk);
    expect(ended.tables).toBeGreaterThan(0);

    // Gone once the retention has passed (the alarm runs at the deadline; bounded wait).
    const gone = await eventually(async () => {
      const answer = await lookup(token);
      return answer.status === 404 ? answer : undefined;
    }, "the session to be forgotten");
    expect(gone.body).toMatchObject({ error: "session_not_found", message: expect.stringContaining("expired from retention") });
    expect((await lookup(sk)).body).toMatchObject({ error: "session_not_found", message: expect.stringContaining("expired from retention") });
    await expect(objectOf(sk)).rejects.toThrow(/no object holds/);
    const all = await persistedObjects(persistDir, "SessionObject");
    const left = all.filter((o) => o.tables > 0);
    expect(left).toEqual([]);
    expect(await registryEntries(persistDir)).toBe(0);

    // The figures for the README: one session's database while kept, and after.
    const forgotten = all[0];
    console.log(
      JSON.stringify({
        storage: { liveDataBytes: live.bytes, liveFileBytes: liveFiles, endedKeptDataBytes: ended.bytes, forgottenDataBytes: forgotten?.bytes, forgottenTables: forgotten?.tables },
      }),
    );
  });

  it("ends a session with no connection and no CR for the idle time (reason idle); an open stream keeps it", async () => {
    const streaming = await createSession();
    const quiet = await createSession();
    const stream = await openSse(`${stack.edgeUrl}/session/${streaming.id}/stream?interval_ms=1000`, { "x-affinity-token": streaming.token });
    expect(stream.status).toBe(200);

    const idleEnd = await eventually(async () => {
      const answer = await lookup(sessionKeyOf(quiet.token));
      if (answer.status !== 200) return undefined;
      const { events } = answer.body as { events: Array<{ kind: string; detail: { reason?: string } }> };
      return events.find((e) => e.kind === "ended");
    }, "the quiet session to end as idle");
    expect(idleEnd.detail.reason).toBe("idle");

    // The streaming one, created first, is past its idle deadline too — and still live.
    await sleep(1000);
    const streamingView = await lookup(sessionKeyOf(streaming.token));
    expect((streamingView.body as { session: { state: string } }).session.state).toBe("active");
    // A CR of the ended one is told the session is gone.
    const cr = await httpJson(`${stack.edgeUrl}/session/${quiet.id}`, { headers: { "x-affinity-token": quiet.token } });
    expect(cr.status).toBe(404);
    stream.close();
  });
});
