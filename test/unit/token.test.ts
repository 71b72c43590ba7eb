import { env } from "cloudflare:workers";
import { SignJWT, base64url } from "jose";
import { describe, expect, it } from "vitest";
import { resolveKeyRing } from "../../workers/edge/token/keyring.ts";
import { mintAffinityToken } from "../../workers/edge/token/mint.ts";
import { verifyAffinityToken } from "../../workers/edge/token/verify.ts";

const keys = resolveKeyRing(env);
const NOW = 1_800_000_000;

async function mint(overrides: { pool?: string; now?: number; ttl?: number } = {}): Promise<string> {
  const { token } = await mintAffinityToken(keys, {
    sk: "session-key-1",
    origin: "o2",
    pool: overrides.pool ?? "default",
    ttlSeconds: overrides.ttl ?? 3600,
    now: overrides.now ?? NOW,
  });
  return token;
}

function parts(token: string): [string, string, string] {
  const [h, p, s] = token.split(".");
  if (h === undefined || p === undefined || s === undefined) throw new Error("not a compact JWS");
  return [h, p, s];
}

const json = (segment: string): Record<string, unknown> =>
  JSON.parse(new TextDecoder().decode(base64url.decode(segment))) as Record<string, unknown>;

describe("affinity token", () => {
  it("round-trips its claims and names the signing kid", async () => {
    const token = await mint();
    expect(json(parts(token)[0])).toMatchObject({ alg: "HS256", kid: "test-1" });
    const result = await verifyAffinityToken(keys, token, "default", NOW + 10);
    expect(result).toEqual({
      ok: true,
      kid: "test-1",
      claims: { sk: "session-key-1", o: "o2", aud: "default", iat: NOW, exp: NOW + 3600 },
    });
  });

  it("refuses a tampered payload", async () => {
    const [h, p, s] = parts(await mint());
    const claims = { ...json(p), o: "o1" };
    const forged = `${h}.${base64url.encode(JSON.stringify(claims))}.${s}`;
    const result = await verifyAffinityToken(keys, forged, "default", NOW);
    expect(result).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("refuses a tampered signature", async () => {
    const [h, p, s] = parts(await mint());
    const flipped = (s.startsWith("A") ? "B" : "A") + s.slice(1);
    expect(await verifyAffinityToken(keys, `${h}.${p}.${flipped}`, "default", NOW)).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("refuses a kid it does not hold, and a known kid whose key did not sign", async () => {
    const stranger = await new SignJWT({ sk: "x", o: "o1" })
      .setProtectedHeader({ alg: "HS256", kid: "nobody" })
      .setAudience("default")
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 60)
      .sign(new Uint8Array(32).fill(1));
    expect(await verifyAffinityToken(keys, stranger, "default", NOW)).toMatchObject({ ok: false, reason: "unknown_kid" });

    const [h, p, s] = parts(await mint());
    const relabelled = base64url.encode(JSON.stringify({ ...json(h), kid: "test-old" }));
    expect(await verifyAffinityToken(keys, `${relabelled}.${p}.${s}`, "default", NOW)).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("accepts a token signed by a verify-only key of the ring", async () => {
    const oldRing = resolveKeyRing({ AFFINITY_KEYS: env.AFFINITY_KEYS, AFFINITY_SIGNING_KID: "test-old" });
    const { token } = await mintAffinityToken(oldRing, { sk: "s", origin: "o1", pool: "default", ttlSeconds: 60, now: NOW });
    expect(await verifyAffinityToken(keys, token, "default", NOW)).toMatchObject({ ok: true, kid: "test-old" });
  });

  it("refuses an expired token (beyond the clock tolerance)", async () => {
    const token = await mint({ ttl: 60 });
    expect(await verifyAffinityToken(keys, token, "default", NOW + 60 + 31)).toMatchObject({ ok: false, reason: "expired" });
  });

  it("refuses a token of another pool", async () => {
    const token = await mint({ pool: "other" });
    expect(await verifyAffinityToken(keys, token, "default", NOW)).toMatchObject({ ok: false, reason: "wrong_pool" });
  });

  it('refuses alg "none"', async () => {
    const [, p] = parts(await mint());
    const header = base64url.encode(JSON.stringify({ alg: "none", kid: "test-1" }));
    expect(await verifyAffinityToken(keys, `${header}.${p}.`, "default", NOW)).toMatchObject({ ok: false, reason: "bad_algorithm" });
  });

  it("refuses garbage", async () => {
    for (const junk of ["", "a.b", "a.b.c", "....", "eyJ.eyJ.x"]) {
      expect(await verifyAffinityToken(keys, junk, "default", NOW)).toMatchObject({ ok: false });
    }
  });

  it("refuses a well-signed token without the session claims", async () => {
    const token = await new SignJWT({ o: "o1" })
      .setProtectedHeader({ alg: "HS256", kid: "test-1" })
      .setAudience("default")
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 60)
      .sign(await keys.signing.signKey());
    expect(await verifyAffinityToken(keys, token, "default", NOW)).toMatchObject({ ok: false, reason: "bad_claims" });
  });
});

describe("key ring configuration", () => {
  it("names the bad field", () => {
    expect(() => resolveKeyRing({ AFFINITY_KEYS: "", AFFINITY_SIGNING_KID: "a" })).toThrow(/AFFINITY_KEYS/);
    expect(() => resolveKeyRing({ AFFINITY_KEYS: '{"a":"c2hvcnQ"}', AFFINITY_SIGNING_KID: "a" })).toThrow(/AFFINITY_KEYS.a/);
    expect(() => resolveKeyRing({ AFFINITY_KEYS: env.AFFINITY_KEYS, AFFINITY_SIGNING_KID: "missing" })).toThrow(
      /AFFINITY_SIGNING_KID/,
    );
  });
});
