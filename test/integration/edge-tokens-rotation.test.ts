/**
 * Key rotation with the real edge, restarted the way a `wrangler secret put` redeploys it:
 * a session created under key A keeps working after B becomes the signing key (no session
 * lost: the session object's record and the origin's session survive), and once A is
 * removed its tokens get 401 `unknown_key` — before any origin sees them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { base64url, exportJWK, generateKeyPair } from "jose";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { originRequests, testStack } from "./support/stack.ts";

const KEY_A = base64url.encode(randomBytes(32)); // HS256, the old kind of key
let keyB: Record<string, unknown>; // ES256 private JWK: the ring moves to asymmetric keys
let stack: RunningStack;
let persistDir: string;

const header = (token: string) => JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()) as { alg: string; kid: string };
const claims = (token: string) => JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sk: string; o: string };

async function createSession(): Promise<{ id: string; origin: string; token: string }> {
  const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { id: string; origin: string };
  return { ...body, token: res.headers.get("x-affinity-token") ?? "" };
}

/** A CR request of the session; echoes `data` back from the session's origin. */
async function control(s: { id: string; token: string }, data: string): Promise<Response> {
  return fetch(`${stack.edgeUrl}/session/${s.id}/control?m=${data}`, {
    method: "POST",
    headers: { "x-affinity-token": s.token, "content-type": "application/json" },
    body: JSON.stringify({ cmd: "echo", data }),
  });
}

async function sessionRecord(sk: string): Promise<{ status: number; body: { session?: { state: string; originId: string } } }> {
  const res = await fetch(`${stack.edgeUrl}/_edge/admin/sessions/${sk}`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  return { status: res.status, body: (await res.json()) as { session?: { state: string; originId: string } } };
}

beforeAll(async () => {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  keyB = { ...(await exportJWK(privateKey)) };
  persistDir = await mkdtemp(join(tmpdir(), "push-edge-rotation-"));
  stack = await testStack({
    originCount: 2,
    persistDir,
    vars: { AFFINITY_KEYS: JSON.stringify({ A: KEY_A }), AFFINITY_SIGNING_KID: "A" },
  });
});
afterAll(async () => {
  await stack?.close();
  if (persistDir !== undefined) await rm(persistDir, { recursive: true, force: true });
});

describe("key rotation", () => {
  it("A signs; B is added and signs; A's session keeps working; A removed → 401 unknown_key", async () => {
    // 1. Under key A.
    const a = await createSession();
    expect(header(a.token)).toMatchObject({ alg: "HS256", kid: "A" });
    const first = await control(a, "under-a");
    expect(first.status).toBe(200);
    expect(first.headers.get("x-origin-id")).toBe(a.origin);

    // 2. B added verify-only (published in the JWKS before it signs anything).
    await stack.restartEdge({ AFFINITY_KEYS: JSON.stringify({ A: KEY_A, B: keyB }), AFFINITY_SIGNING_KID: "A" });
    const jwks = (await (await fetch(`${stack.edgeUrl}/_edge/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; d?: string }> };
    expect(jwks.keys.map((k) => k.kid)).toEqual(["B"]);
    expect(jwks.keys[0]?.d).toBeUndefined();
    expect((await control(a, "b-added")).status).toBe(200);

    // 3. B signs; A only verifies. A's session is the same session on the same origin.
    await stack.restartEdge({ AFFINITY_SIGNING_KID: "B" });
    const b = await createSession();
    expect(header(b.token)).toMatchObject({ alg: "ES256", kid: "B" });
    const stillA = await control(a, "b-signs");
    expect(stillA.status).toBe(200);
    expect(stillA.headers.get("x-origin-id")).toBe(a.origin);
    expect(await stillA.json()).toMatchObject({ data: "b-signs", session: a.id, origin: a.origin });
    expect((await sessionRecord(claims(a.token).sk)).body.session).toMatchObject({ state: "active", originId: a.origin });
    expect((await control(b, "under-b")).status).toBe(200);

    // 4. A removed: its tokens are refused with their own code, at the edge.
    await stack.restartEdge({ AFFINITY_KEYS: JSON.stringify({ B: keyB }) });
    const refused = await control(a, "a-removed");
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: "unknown_key", message: expect.any(String) });
    const seen = [...(await originRequests(stack)).values()].flat();
    expect(seen.some((r) => r.path === `/session/${a.id}/control` && r.status === 200)).toBe(true);
    expect(seen.filter((r) => r.path === `/session/${a.id}/control`)).toHaveLength(3);
    // B's session is untouched.
    const stillB = await control(b, "after-a-removed");
    expect(stillB.status).toBe(200);
    expect(stillB.headers.get("x-origin-id")).toBe(b.origin);
  });
});
