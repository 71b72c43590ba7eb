/**
 * The origin's JWKS client (infra/origin/edge-token.ts) on its own, against a key set this
 * test serves and changes: a rotated-in key is fetched when a token first names it, and a
 * flood of unknown kids costs at most one fetch per cooldown.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeTokenCheck } from "../../infra/origin/edge-token.ts";
import { sleep } from "./support/wait.ts";

let server: Server;
let url: URL;
let served: JWK[] = [];
let fetches = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/_edge/.well-known/jwks.json`);
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function key(kid: string, alg: "ES256" | "Ed25519") {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: alg === "Ed25519" ? "EdDSA" : alg, use: "sig" };
  const sign = (o: string) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sk: "s", o }).setProtectedHeader({ alg: publicJwk.alg, kid }).setAudience("default").setIssuedAt(now).setExpirationTime(now + 60).sign(privateKey);
  };
  return { publicJwk, sign };
}

const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e: { code?: string }) => e.code ?? "error");

describe("origin JWKS client", () => {
  it("learns a rotated-in key on first sight, and rate-limits refetches for unknown kids", async () => {
    const COOLDOWN_MS = 1_000;
    const e1 = await key("e1", "ES256");
    const d2 = await key("d2", "Ed25519");
    served = [e1.publicJwk];
    fetches = 0;
    const check = createEdgeTokenCheck("o1", url, { cooldownMs: COOLDOWN_MS });
    const cr = (token: string) => outcome(check("session-control", "POST", { "x-push-edge-token": token }));

    expect(await cr(await e1.sign("o1"))).toBe("ok");
    expect(fetches).toBe(1);

    // Rotation: the edge now also publishes d2 and signs with it.
    served = [e1.publicJwk, d2.publicJwk];
    await sleep(COOLDOWN_MS + 100);
    expect(await cr(await d2.sign("o1"))).toBe("ok");
    expect(fetches).toBe(2);

    // Made-up kids: refused, and within one cooldown they trigger at most one fetch.
    const stranger = await key("nobody", "ES256");
    const before = fetches;
    const results = await Promise.all(Array.from({ length: 20 }, async () => cr(await stranger.sign("o1"))));
    expect(new Set(results)).toEqual(new Set(["token_invalid"]));
    expect(fetches - before).toBeLessThanOrEqual(1);

    // Known keys keep working meanwhile, without fetches.
    const known = fetches;
    expect(await cr(await e1.sign("o1"))).toBe("ok");
    expect(await cr(await e1.sign("o2"))).toBe("token_wrong_origin");
    expect(fetches).toBe(known);
  });

  it("checks only CR routes, and fails closed when the JWKS cannot be fetched", async () => {
    const check = createEdgeTokenCheck("o1", new URL("http://127.0.0.1:9/none.json"), { cooldownMs: 1_000 });
    expect(await outcome(check("session-create", "POST", {}))).toBe("ok");
    expect(await outcome(check("tlcp-control", "OPTIONS", {}))).toBe("ok");
    expect(await outcome(check("session-stream", "GET", {}))).toBe("token_missing");
    const e1 = await key("e1", "ES256");
    expect(await outcome(check("session-stream", "GET", { "x-push-edge-token": await e1.sign("o1") }))).toBe("token_invalid");
  });
});
