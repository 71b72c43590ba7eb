/**
 * Bad tokens stop at the edge: tampered, expired and foreign tokens get the JSON error of
 * docs/architecture.md and no origin sees the request. Client-claimed addresses do not reach origins.
 */
import { SignJWT, base64url } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_AFFINITY_KEYS, DEV_SIGNING_KID } from "../../infra/local/dev-secrets.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { rejectedUpgrade } from "./support/http-clients.ts";
import { originRequests, testStack } from "./support/stack.ts";

let stack: RunningStack;

beforeAll(async () => {
  stack = await testStack({ originCount: 3 });
});
afterAll(async () => {
  await stack?.close();
});

const devKey = (): Uint8Array => {
  const keys = JSON.parse(DEV_AFFINITY_KEYS) as Record<string, string>;
  return base64url.decode(keys[DEV_SIGNING_KID] ?? "");
};

async function session(): Promise<{ id: string; token: string; origin: string }> {
  const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
  const body = (await res.json()) as { id: string; origin: string };
  return { id: body.id, origin: body.origin, token: res.headers.get("x-affinity-token") ?? "" };
}

/** Paths with a marker, so the origins' logs can be searched for them. */
async function reachedAnyOrigin(marker: string): Promise<boolean> {
  const logs = await originRequests(stack);
  return [...logs.values()].flat().some((r) => r.path.includes(marker));
}

describe("token failures", () => {
  it("tampered payload: 401 token_invalid, no origin reached", async () => {
    const s = await session();
    const [h, p, sig] = s.token.split(".");
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p ?? ""))) as Record<string, unknown>;
    const other = ["o1", "o2", "o3"].find((o) => o !== s.origin) ?? "o1";
    const forged = `${h}.${base64url.encode(JSON.stringify({ ...claims, o: other }))}.${sig}`;
    const res = await fetch(`${stack.edgeUrl}/session/${s.id}/control?m=tampered-payload`, {
      method: "POST",
      headers: { "x-affinity-token": forged },
      body: "{}",
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: "token_invalid", message: expect.any(String) });
    expect(await reachedAnyOrigin(s.id + "/control")).toBe(false);
  });

  it("tampered signature on a WebSocket upgrade: 401 before any origin", async () => {
    const s = await session();
    const forged = `${s.token.slice(0, -4)}AAAA`;
    const refused = await rejectedUpgrade(`${stack.edgeUrl.replace(/^http/, "ws")}/session/${s.id}/ws`, {
      cookie: `pe_affinity=${forged}`,
    });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: "token_invalid" });
    expect(await reachedAnyOrigin(`${s.id}/ws`)).toBe(false);
  });

  it("expired: 401 token_expired, no origin reached", async () => {
    const s = await session();
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(s.token.split(".")[1] ?? ""))) as { sk: string; o: string };
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await new SignJWT({ sk: claims.sk, o: claims.o })
      .setProtectedHeader({ alg: "HS256", kid: DEV_SIGNING_KID })
      .setAudience("default")
      .setIssuedAt(past - 60)
      .setExpirationTime(past)
      .sign(devKey());
    const res = await fetch(`${stack.edgeUrl}/session/${s.id}/stream?affinity=${expired}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "token_expired" });
    expect(await reachedAnyOrigin(`${s.id}/stream`)).toBe(false);
  });

  it("another pool's token: 403 token_wrong_pool", async () => {
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({ sk: "x", o: "o1" })
      .setProtectedHeader({ alg: "HS256", kid: DEV_SIGNING_KID })
      .setAudience("another-pool")
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(devKey());
    const res = await fetch(`${stack.edgeUrl}/session/x/control?m=foreign`, { headers: { "x-affinity-token": foreign } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: "token_wrong_pool" });
  });

  it("a valid token still works after all that", async () => {
    const s = await session();
    const res = await fetch(`${stack.edgeUrl}/session/${s.id}/control`, {
      method: "POST",
      headers: { "x-affinity-token": s.token, "content-type": "application/json" },
      body: JSON.stringify({ cmd: "echo", data: 1 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin-id")).toBe(s.origin);
  });
});

describe("client address", () => {
  it("reaches the origin as the address the edge saw, whatever the client claims", async () => {
    const res = await fetch(`${stack.edgeUrl}/session`, {
      method: "POST",
      headers: { "x-forwarded-for": "6.6.6.6", forwarded: "for=6.6.6.6", "x-real-ip": "6.6.6.6" },
    });
    const body = (await res.json()) as { client: string };
    expect(body.client).toBe("127.0.0.1");
    const origin = res.headers.get("x-origin-id") ?? "";
    const logged = (await originRequests(stack)).get(origin) ?? [];
    const entry = logged.findLast((r) => r.method === "POST" && r.path === "/session");
    expect(entry).toMatchObject({ client: "127.0.0.1", via: "forwarded" });
  });
});
