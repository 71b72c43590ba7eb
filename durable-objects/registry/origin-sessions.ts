/**
 * One shard of the registry of sessions the edge placed on one origin (see
 * registry-stubs.ts for the sharding). Session objects add themselves when they are
 * created and remove themselves when they end or are forgotten; the pool coordinator
 * counts an origin's sessions here and ends some of them (drain, rebalance) through it.
 */
import { DurableObject } from "cloudflare:workers";
import type { EndReason } from "../../protocols/adapter.ts";
import { errorMessage, log } from "../../observability/log.ts";
import { sessionStub } from "../session/stub.ts";
import { migrateSchema } from "../sqlite-schema.ts";

const MIGRATIONS: readonly string[] = [
  // v1
  `CREATE TABLE sessions (sk TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
   CREATE INDEX sessions_by_age ON sessions (created_at, sk);`,
  // v2: the origin's own id for the session, so an operator can find a session by it.
  `ALTER TABLE sessions ADD COLUMN origin_session_id TEXT;
   CREATE INDEX sessions_by_origin_id ON sessions (origin_session_id);`,
];

/** Session objects asked to end at once: a drain of thousands must not open thousands of calls. */
export const END_CONCURRENCY = 16;

export class OriginSessions extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  /** Sessions an end() call is ending right now: a concurrent end() picks others. */
  readonly #ending = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    migrateSchema(this.#sql, MIGRATIONS);
  }

  add(sk: string, createdAt: number, originSessionId: string | null = null): void {
    this.#sql.exec("INSERT OR REPLACE INTO sessions (sk, created_at, origin_session_id) VALUES (?, ?, ?)", sk, createdAt, originSessionId);
  }

  /** The origin named the session after it was registered (a WebSocket's first message). */
  setOriginSessionId(sk: string, originSessionId: string): void {
    this.#sql.exec("UPDATE sessions SET origin_session_id = ? WHERE sk = ?", originSessionId, sk);
  }

  /** Session keys of live sessions the origin knows by this id (admin lookup). */
  findByOriginSessionId(originSessionId: string): string[] {
    return this.#sql
      .exec<{ sk: string }>("SELECT sk FROM sessions WHERE origin_session_id = ? LIMIT 10", originSessionId)
      .toArray()
      .map((row) => row.sk);
  }

  remove(sk: string): void {
    this.#sql.exec("DELETE FROM sessions WHERE sk = ?", sk);
  }

  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sessions").one().n;
  }

  /**
   * Ends up to `count` of this shard's sessions, oldest first, each through its own
   * session object (which tells its clients, in their protocol's words, to reconnect).
   * Returns how many live sessions it ended. A session that was already over leaves the
   * registry without counting; one whose object could not be reached stays, for a later call.
   */
  async end(count: number, reason: EndReason): Promise<number> {
    if (!Number.isFinite(count) || count <= 0) return 0;
    const limit = Math.floor(count);
    const picked = this.#sql
      .exec<{ sk: string }>("SELECT sk FROM sessions ORDER BY created_at, sk LIMIT ?", limit + this.#ending.size)
      .toArray()
      .map((row) => row.sk)
      .filter((sk) => !this.#ending.has(sk))
      .slice(0, limit);
    for (const sk of picked) this.#ending.add(sk);
    let ended = 0;
    try {
      for (let i = 0; i < picked.length; i += END_CONCURRENCY) {
        const batch = picked.slice(i, i + END_CONCURRENCY);
        const results = await Promise.all(batch.map((sk) => this.#endOne(sk, reason)));
        ended += results.filter(Boolean).length;
      }
    } finally {
      for (const sk of picked) this.#ending.delete(sk);
    }
    return ended;
  }

  /**
   * Ends up to `limit` sessions registered before `before` (their origin restarted and lost
   * them): the ones whose clients are still attached are told to start again, and every
   * one leaves the registry. Returns how many live sessions it ended and how many such
   * sessions are still registered (unreachable objects, or past `limit`), for a later call.
   */
  async endRegisteredBefore(before: number, limit: number, reason: EndReason): Promise<{ ended: number; left: number }> {
    const picked = this.#sql
      .exec<{ sk: string }>("SELECT sk FROM sessions WHERE created_at < ? ORDER BY created_at, sk LIMIT ?", before, Math.max(0, Math.floor(limit)))
      .toArray()
      .map((row) => row.sk)
      .filter((sk) => !this.#ending.has(sk));
    for (const sk of picked) this.#ending.add(sk);
    let ended = 0;
    try {
      for (let i = 0; i < picked.length; i += END_CONCURRENCY) {
        const results = await Promise.all(picked.slice(i, i + END_CONCURRENCY).map((sk) => this.#endOne(sk, reason)));
        ended += results.filter(Boolean).length;
      }
    } finally {
      for (const sk of picked) this.#ending.delete(sk);
    }
    const left = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sessions WHERE created_at < ?", before).one().n;
    return { ended, left };
  }

  async #endOne(sk: string, reason: EndReason): Promise<boolean> {
    try {
      const ended = await sessionStub(this.env, sk).end(reason);
      this.remove(sk);
      return ended;
    } catch (err) {
      log("registry_end_failed", { sk, reason, message: errorMessage(err) }, "error");
      return false;
    }
  }
}
