import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { resolveKeyRing } from "../../workers/edge/token/keyring.ts";
import { mintAffinityToken } from "../../workers/edge/token/mint.ts";

const keys = resolveKeyRing(env);

const inspect = async (body: unknown, token = env.ADMIN_TOKEN) =>
  exports.default.fetch(
    new Request("http://push.example.com/_edge/admin/tokens/inspect", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );

const mint = (pool: string, now?: number) =>
  mintAffinityToken(keys, { sk: crypto.randomUUID(), origin: "o2", pool, ttlSeconds: 60, ...(now === undefined ? {} : { now }) });

describe("POST /_edge/admin/tokens/inspect", () => {
  it("verifies a good token as a CR request would, with its claims", async () => {
    const { token, claims } = await mint("default");
    const res = await inspect({ token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ verified: true, kid: keys.signingKid, pool: "default", session: claims.sk, origin: "o2" });
    expect(body.expiresIn).toBeGreaterThan(50);
    expect(body.header).toMatchObject({ alg: "HS256", kid: keys.signingKid });
  });

  it("says why a token fails: expired, tampered, for a pool this edge does not serve, or no token at all", async () => {
    const expired = await mint("default", Math.floor(Date.now() / 1000) - 3600);
    expect(await (await inspect({ token: expired.token })).json()).toMatchObject({ verified: false, reason: "expired" });

    const { token } = await mint("default");
    const tampered = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
    expect(await (await inspect({ token: tampered })).json()).toMatchObject({ verified: false, reason: "bad_signature" });

    // Validly signed, but it claims a pool no host maps to here: never checked against its own claim.
    const foreign = await mint("elsewhere");
    expect(await (await inspect({ token: foreign.token })).json()).toMatchObject({
      verified: false,
      reason: "wrong_pool",
      detail: expect.stringContaining('"elsewhere", which this edge does not serve'),
    });
    expect(await (await inspect({ token: "garbage" })).json()).toMatchObject({ verified: false, reason: "malformed", header: null, claims: null });
  });

  it("refuses bad requests and callers without the admin token", async () => {
    expect((await inspect({})).status).toBe(400);
    expect((await inspect("not json")).status).toBe(400);
    const { token } = await mint("default");
    const unknownPool = await inspect({ token, pool: "nope" });
    expect(unknownPool.status).toBe(404);
    expect(await unknownPool.json()).toMatchObject({ error: "unknown_pool" });
    expect((await inspect({ token }, "wrong")).status).toBe(401);
  });
});
