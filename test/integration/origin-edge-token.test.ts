/**
 * A reference origin started with `--jwks-url` verifies push-edge tokens itself, against
 * the edge's published JWKS: CR requests through the edge pass (the edge forwards the
 * verified token), while requests sent to the origin directly — without a token, with a
 * forged one, or with a real token for another origin — are refused by the origin (403).
 *
 * The origins need the edge's URL, so the stack starts with a placeholder origin and the
 * real ones join through the admin API once the edge is up.
 */
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOriginProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { openWebSocket, rejectedUpgrade } from "./support/http-clients.ts";
import { testStack } from "./support/stack.ts";
import { sleep, withTimeout } from "./support/wait.ts";

let stack: RunningStack;
const origins: OriginProcess[] = [];
let attackerKey: CryptoKey;

const ADMIN = () => ({ authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" });
const originUrl = (id: string) => origins.find((o) => o.id === id)?.url ?? "";

beforeAll(async () => {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const attacker = await generateKeyPair("ES256");
  attackerKey = attacker.privateKey;
  stack = await testStack({
    origins: [{ id: "placeholder", url: "http://127.0.0.1:9" }],
    poolSettings: { health: { intervalMs: 300, timeoutMs: 250, rise: 1, fall: 1 } },
    vars: { AFFINITY_KEYS: JSON.stringify({ e1: await exportJWK(privateKey) }), AFFINITY_SIGNING_KID: "e1" },
  });
  const jwksUrl = `${stack.edgeUrl}/_edge/.well-known/jwks.json`;
  for (const id of ["v1", "v2"]) {
    origins.push(await startOriginProcess(id, ["--listen", "combined=127.0.0.1:0", "--jwks-url", jwksUrl]));
  }
  for (const o of origins) {
    const res = await fetch(`${stack.edgeUrl}/_edge/admin/pools/default/origins`, { method: "POST", headers: ADMIN(), body: JSON.stringify({ id: o.id, url: o.url }) });
    expect(res.status).toBe(201);
  }
  expect((await fetch(`${stack.edgeUrl}/_edge/admin/pools/default/origins/placeholder`, { method: "DELETE", headers: ADMIN() })).status).toBe(204);
  // Bounded wait until the coordinator has seen both origins healthy.
  await withTimeout(
    (async () => {
      for (;;) {
        const view = (await (await fetch(`${stack.edgeUrl}/_edge/admin/pool`, { headers: ADMIN() })).json()) as { pools: Array<{ origins: Array<{ healthy: boolean }> }> };
        const list = view.pools[0]?.origins ?? [];
        if (list.length === 2 && list.every((o) => o.healthy)) return;
        await sleep(100);
      }
    })(),
    10_000,
    "both origins healthy",
  );
  // Isolates keep a pool snapshot for up to 2 s.
  await sleep(2_500);
});
afterAll(async () => {
  await Promise.allSettled([stack?.close(), ...origins.map((o) => o.stop())]);
});

async function session(): Promise<{ id: string; origin: string; token: string }> {
  const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { id: string; origin: string };
  return { ...body, token: res.headers.get("x-affinity-token") ?? "" };
}

const echo = (base: string, id: string, headers: Record<string, string>) =>
  fetch(`${base}/session/${id}/control`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ cmd: "echo", data: "x" }),
  });

describe("an origin verifying the edge's tokens (--jwks-url)", () => {
  it("passes CR requests that come through the edge, HTTP and WebSocket", async () => {
    const s = await session();
    expect(["v1", "v2"]).toContain(s.origin);
    const res = await echo(stack.edgeUrl, s.id, { "x-affinity-token": s.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin-id")).toBe(s.origin);
    const ws = await openWebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/session/${s.id}/ws`, { "x-affinity-token": s.token });
    expect(ws.upgradeHeaders["x-origin-id"]).toBe(s.origin);
    ws.ws.close();
  });

  it("refuses CR requests sent to it directly without a token", async () => {
    const s = await session();
    const res = await echo(originUrl(s.origin), s.id, {});
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: "token_missing", message: expect.any(String) });
    // A client-style carrier is not the edge's header.
    expect((await echo(originUrl(s.origin), s.id, { "x-affinity-token": s.token })).status).toBe(403);
    const ws = await rejectedUpgrade(`${originUrl(s.origin).replace(/^http/, "ws")}/session/${s.id}/ws`);
    expect(ws.status).toBe(403);
    expect(ws.body).toMatchObject({ error: "token_missing" });
  });

  it("refuses a real token naming another origin, and accepts it at its own", async () => {
    const s = await session();
    const other = s.origin === "v1" ? "v2" : "v1";
    const wrong = await echo(originUrl(other), s.id, { "x-push-edge-token": s.token });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ error: "token_wrong_origin" });
    expect((await echo(originUrl(s.origin), s.id, { "x-push-edge-token": s.token })).status).toBe(200);
  });

  it("refuses forged tokens: another key under the edge's kid, HS256 with the public key, alg none", async () => {
    const s = await session();
    const now = Math.floor(Date.now() / 1000);
    const claims = { sk: "forged", o: s.origin };
    const base = () => new SignJWT(claims).setAudience("default").setIssuedAt(now).setExpirationTime(now + 600);
    const jwks = (await (await fetch(`${stack.edgeUrl}/_edge/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
    const forged = [
      await base().setProtectedHeader({ alg: "ES256", kid: "e1" }).sign(attackerKey),
      await base().setProtectedHeader({ alg: "HS256", kid: "e1" }).sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0]))),
      `${Buffer.from(JSON.stringify({ alg: "none", kid: "e1" })).toString("base64url")}.${Buffer.from(JSON.stringify({ ...claims, exp: now + 600 })).toString("base64url")}.`,
      await base().setProtectedHeader({ alg: "ES256", kid: "made-up" }).sign(attackerKey),
    ];
    for (const token of forged) {
      const res = await echo(originUrl(s.origin), s.id, { "x-push-edge-token": token });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: "token_invalid" });
    }
  });

  it("the edge refuses the same forgeries first, each with its code", async () => {
    const s = await session();
    const now = Math.floor(Date.now() / 1000);
    const claims = { sk: "forged", o: s.origin };
    const base = () => new SignJWT(claims).setAudience("default").setIssuedAt(now).setExpirationTime(now + 600);
    const jwks = (await (await fetch(`${stack.edgeUrl}/_edge/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
    const cases: Array<[string, string]> = [
      [await base().setProtectedHeader({ alg: "HS256", kid: "e1" }).sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0]))), "token_bad_algorithm"],
      [`${Buffer.from(JSON.stringify({ alg: "none", kid: "e1" })).toString("base64url")}.${Buffer.from(JSON.stringify({ ...claims, aud: "default", iat: now, exp: now + 600 })).toString("base64url")}.`, "token_bad_algorithm"],
      [await base().setProtectedHeader({ alg: "ES256", kid: "e1" }).sign(attackerKey), "token_invalid"],
      [await base().setProtectedHeader({ alg: "ES256", kid: "made-up" }).sign(attackerKey), "unknown_key"],
    ];
    for (const [token, code] of cases) {
      const res = await echo(stack.edgeUrl, s.id, { "x-affinity-token": token });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: code });
    }
  });

  it("serves a session only to a token for that very session, not to another session's token (issue 16 F4)", async () => {
    // Two sessions on one origin (two origins: of three sessions, two share one).
    const made = [await session(), await session(), await session()];
    const pair = made.flatMap((a, i) => made.slice(i + 1).filter((b) => b.origin === a.origin).map((b) => [a, b] as const))[0];
    if (pair === undefined) throw new Error("no two sessions on one origin");
    const [a, b] = pair;
    // Through the edge: A's token, B's path. The edge routes by the token (to A's origin,
    // which also holds B); the origin must not hand out B's record or take B's commands.
    const record = await fetch(`${stack.edgeUrl}/session/${b.id}`, { headers: { "x-affinity-token": a.token } });
    expect(record.status).toBe(403);
    expect(await record.json()).toMatchObject({ error: "token_wrong_session" });
    expect((await echo(stack.edgeUrl, b.id, { "x-affinity-token": a.token })).status).toBe(403);
    const ws = await rejectedUpgrade(`${stack.edgeUrl.replace(/^http/, "ws")}/session/${b.id}/ws`, { "x-affinity-token": a.token });
    expect(ws.status).toBe(403);
    // Each token still opens its own session.
    expect((await fetch(`${stack.edgeUrl}/session/${b.id}`, { headers: { "x-affinity-token": b.token } })).status).toBe(200);
    expect((await echo(stack.edgeUrl, a.id, { "x-affinity-token": a.token })).status).toBe(200);
  });

  it("still takes S requests without a token (they are not CR)", async () => {
    const res = await fetch(`${originUrl("v1")}/session`, { method: "POST" });
    expect(res.status).toBe(201);
  });
});
