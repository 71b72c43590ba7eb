/**
 * Admin API for pools and their origins (under /_edge/admin/, behind the admin token):
 *
 *   GET    /pool                                  every pool: origins with health, state, load, drain progress
 *   POST   /pools/:pool/origins                   add an origin  {id, url, weight?, capacity?, transport?, proxy?}
 *   PATCH  /pools/:pool/origins/:id               change it      {weight?, capacity?, url?, ...}
 *   DELETE /pools/:pool/origins/:id               remove it (its sessions keep their origin until they end)
 *   POST   /pools/:pool/origins/:id/state         {state: "active" | "drain" | "block" | "maintenance", rate?}
 *
 * Changes go to the pool coordinator, which persists them: no redeploy. Edge isolates see
 * them within one snapshot period.
 */
import { Hono, type Context } from "hono";
import { coordinatorStub } from "../../../durable-objects/pool/stub.ts";
import type { AdminState, PoolSnapshot } from "../../../durable-objects/pool/snapshot.ts";
import { loadOf } from "../balance/pick.ts";
import { capacityOf, configHash, liveSessions, poolView } from "../balance/pool-view.ts";
import { ConfigError, resolveOrigin, type OriginConfig, type PoolConfig } from "../../../config/config.ts";
import { describeHealthCheck, effectiveHealth, mergeHealth, resolveHealthOverride } from "../../../config/health-settings.ts";
import type { PoolSettings } from "../../../config/pool-settings.ts";
import { parseProxyAuthKeys } from "../../../relay/transport/tcp/proxy-auth-keys.ts";
import { EdgeError } from "../../../protocols/errors.ts";
import { edgeRuntime } from "../runtime.ts";
import type { EdgeEnv } from "./sessions.ts";

/** Sessions per second a drain ends when the operator names no rate. */
export const DEFAULT_DRAIN_RATE = 10;

const STATES: Record<string, AdminState> = { active: "active", drain: "draining", block: "blocked", maintenance: "maintenance" };

function poolNamed(c: Context<EdgeEnv>): PoolConfig {
  const name = c.req.param("pool");
  const pool = edgeRuntime(c.env).config.pools.find((p) => p.name === name);
  if (pool === undefined) throw new EdgeError(404, "unknown_pool", `no pool named ${JSON.stringify(name)}`);
  return pool;
}

/** The pool's coordinator, seeded from the deployed configuration if nothing touched it yet. */
async function coordinatorOf(c: Context<EdgeEnv>, pool: PoolConfig) {
  const coordinator = coordinatorStub(c.env, pool.name);
  await coordinator.snapshot(pool, configHash(pool));
  return coordinator;
}

async function jsonBody(c: Context<EdgeEnv>): Promise<Record<string, unknown>> {
  const body: unknown = await c.req.json().catch(() => undefined);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new EdgeError(400, "bad_request", "the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** Validates an origin as the deployed configuration would; errors name the field. */
function validOrigin(c: Context<EdgeEnv>, raw: Record<string, unknown>, pool: PoolConfig) {
  const keys = parseProxyAuthKeys(c.env.PROXY_AUTH_KEYS);
  try {
    const origin = resolveOrigin(raw, "origin", new Set(keys.ok ? keys.keys.keys() : []));
    // Its health override must fit its pool's settings (e.g. a timeout below the interval).
    mergeHealth(pool.settings.health, resolveHealthOverride(origin.health, "origin.health"), "origin.health");
    return origin;
  } catch (err) {
    if (err instanceof ConfigError) throw new EdgeError(400, "bad_request", err.message);
    throw err;
  }
}

/** The check an origin gets, in words. */
function checkOf(settings: PoolSettings, origin: OriginConfig): string {
  return describeHealthCheck(effectiveHealth(settings.health, origin.health));
}

/** The operator's view of one pool. */
export function describePool(pool: PoolConfig, snapshot: PoolSnapshot | undefined) {
  return {
    name: pool.name,
    hosts: pool.hosts,
    settings: snapshot?.settings ?? pool.settings,
    rebalanced: snapshot?.rebalanced ?? 0,
    origins: (snapshot?.origins ?? []).map((o) => {
      const capacity = capacityOf(o);
      return {
        id: o.id,
        url: o.config.url,
        weight: o.config.weight,
        transport: o.config.transport,
        state: o.adminState,
        drain: o.drainRate > 0 ? { rate: o.drainRate, ended: o.drained, remaining: o.sessions } : null,
        healthy: o.healthy,
        reportedState: o.reportedState,
        sessions: o.sessions,
        // The origin's own count (null: it reports none); load uses the two reconciled.
        reportedSessions: o.reportedSessions,
        capacity,
        load: loadOf({ id: o.id, weight: o.config.weight, sessions: liveSessions(o), capacity, eligible: o.healthy }),
        checkedAt: o.checkedAt,
        // Why it is (or last was) down, and whether an active check or real traffic said so.
        lastError: o.lastError,
        errorSource: o.errorSource,
        check: checkOf(snapshot?.settings ?? pool.settings, o.config),
        checkNote: o.checkNote,
      };
    }),
  };
}

export function adminPoolRoutes(): Hono<EdgeEnv> {
  const admin = new Hono<EdgeEnv>();

  admin.get("/pool", async (c) => {
    const { config } = edgeRuntime(c.env);
    const pools = await Promise.all(
      // snapshot(), not view(): it seeds a pool no request has touched yet.
      config.pools.map(async (pool) => describePool(pool, await coordinatorStub(c.env, pool.name).snapshot(pool, configHash(pool)))),
    );
    return c.json({ pools });
  });

  admin.post("/pools/:pool/origins", async (c) => {
    const pool = poolNamed(c);
    const origin = validOrigin(c, await jsonBody(c), pool);
    const coordinator = await coordinatorOf(c, pool);
    if ((await coordinator.view())?.origins.some((o) => o.id === origin.id)) {
      throw new EdgeError(409, "bad_request", `pool ${pool.name} already has an origin ${origin.id}`);
    }
    return c.json(describePool(pool, await coordinator.addOrigin(origin)), 201);
  });

  admin.patch("/pools/:pool/origins/:id", async (c) => {
    const pool = poolNamed(c);
    const id = c.req.param("id");
    const coordinator = await coordinatorOf(c, pool);
    const current = (await coordinator.view())?.origins.find((o) => o.id === id);
    if (current === undefined) throw new EdgeError(404, "not_found", `pool ${pool.name} has no origin ${id}`);
    const origin = validOrigin(c, { ...current.config, ...(await jsonBody(c)), id }, pool);
    return c.json(describePool(pool, await coordinator.updateOrigin(origin)));
  });

  admin.delete("/pools/:pool/origins/:id", async (c) => {
    const pool = poolNamed(c);
    const id = c.req.param("id");
    if (!(await (await coordinatorOf(c, pool)).removeOrigin(id))) {
      throw new EdgeError(404, "not_found", `pool ${pool.name} has no origin ${id}`);
    }
    return c.body(null, 204);
  });

  admin.post("/pools/:pool/origins/:id/state", async (c) => {
    const pool = poolNamed(c);
    const id = c.req.param("id");
    const body = await jsonBody(c);
    const state = STATES[String(body.state)];
    if (state === undefined) throw new EdgeError(400, "bad_request", `state: must be one of ${Object.keys(STATES).join(", ")}`);
    const rate = body.rate ?? DEFAULT_DRAIN_RATE;
    if (typeof rate !== "number" || !Number.isFinite(rate) || rate <= 0) {
      throw new EdgeError(400, "bad_request", "rate: must be a number of sessions per second > 0");
    }
    const snapshot = await (await coordinatorOf(c, pool)).setOriginState(id, state, rate);
    if (snapshot === undefined) throw new EdgeError(404, "not_found", `pool ${pool.name} has no origin ${id}`);
    // This isolate places with the new state from now on (other isolates within their snapshot's age).
    poolView(pool).adopt(snapshot);
    return c.json(describePool(pool, snapshot));
  });

  return admin;
}
