import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { resolveKeyRing, type KeyRing, type RingKey } from "../../workers/edge/token/keyring.ts";
import { mintAffinityToken } from "../../workers/edge/token/mint.ts";
import { VerifiedTokens } from "../../workers/edge/token/verified-tokens.ts";
import { verifyAffinityToken } from "../../workers/edge/token/verify.ts";

const NOW = 1_800_000_000;
const TEST_1 = "dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWtleS1vbmU";

/** A ring that counts how often a key is fetched for a signature check (what a hit skips). */
function countingRing(ring: KeyRing): { ring: KeyRing; checks: () => number } {
  let checks = 0;
  const wrapped = new Map<string, RingKey>();
  const key = (kid: string): RingKey | undefined => {
    const inner = ring.key(kid);
    if (inner === undefined) return undefined;
    let k = wrapped.get(kid);
    if (k === undefined) {
      k = {
        ...inner,
        verifyKey: () => {
          checks += 1;
          return inner.verifyKey();
        },
      };
      wrapped.set(kid, k);
    }
    return k;
  };
  return { ring: { ...ring, key }, checks: () => checks };
}

const base = resolveKeyRing(env);

async function mint(sk: string, ttl = 3600, pool = "default"): Promise<string> {
  return (await mintAffinityToken(base, { sk, origin: "o1", pool, ttlSeconds: ttl, now: NOW })).token;
}

describe("verified tokens (CR requests skip a signature they checked before)", () => {
  it("answers a token's second use as the first, without checking its signature again", async () => {
    const { ring, checks } = countingRing(base);
    const cache = new VerifiedTokens();
    const token = await mint("s1");
    const first = await cache.verify(ring, token, "default", NOW + 1);
    const second = await cache.verify(ring, token, "default", NOW + 2);
    expect(first).toEqual(await verifyAffinityToken(base, token, "default", NOW + 1));
    expect(second).toEqual(first);
    expect(checks()).toBe(1);
    expect(cache.size).toBe(1);
  });

  it("refuses a token one byte away from a cached one, and keeps no failure", async () => {
    const { ring } = countingRing(base);
    const cache = new VerifiedTokens();
    const token = await mint("s1");
    await cache.verify(ring, token, "default", NOW);
    const last = token.at(-1) === "A" ? "B" : "A";
    const forged = token.slice(0, -1) + last;
    expect(await cache.verify(ring, forged, "default", NOW)).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(await cache.verify(ring, "not.a.token", "default", NOW)).toMatchObject({ ok: false, reason: "malformed" });
    expect(cache.size).toBe(1);
  });

  it("refuses a cached token once it has expired, as a full verification would", async () => {
    const { ring } = countingRing(base);
    const cache = new VerifiedTokens();
    const token = await mint("s1", 60);
    expect(await cache.verify(ring, token, "default", NOW + 89)).toMatchObject({ ok: true });
    // Valid until exp + 30 s of clock tolerance, exactly like jose's check.
    expect(await verifyAffinityToken(base, token, "default", NOW + 90)).toMatchObject({ ok: false, reason: "expired" });
    expect(await cache.verify(ring, token, "default", NOW + 90)).toMatchObject({ ok: false, reason: "expired" });
    expect(cache.size).toBe(0);
  });

  it("checks the pool: a token cached for one pool is refused for another", async () => {
    const { ring } = countingRing(base);
    const cache = new VerifiedTokens();
    const token = await mint("s1");
    await cache.verify(ring, token, "default", NOW);
    expect(await cache.verify(ring, token, "other", NOW)).toMatchObject({ ok: false, reason: "wrong_pool" });
  });

  it("verifies again under a new key ring, and refuses at once a key rotated out", async () => {
    const cache = new VerifiedTokens();
    const token = await mint("s1");
    const before = countingRing(base);
    await cache.verify(before.ring, token, "default", NOW);
    const after = countingRing(resolveKeyRing({ AFFINITY_KEYS: JSON.stringify({ "test-1": TEST_1 }), AFFINITY_SIGNING_KID: "test-1" }));
    expect(await cache.verify(after.ring, token, "default", NOW)).toMatchObject({ ok: true });
    expect(after.checks()).toBe(1);
    const rotated = resolveKeyRing({ AFFINITY_KEYS: JSON.stringify({ "test-old": TEST_1 }), AFFINITY_SIGNING_KID: "test-old" });
    expect(await cache.verify(rotated, token, "default", NOW)).toMatchObject({ ok: false, reason: "unknown_kid" });
  });

  it("holds at most its bound, the least recently used going first", async () => {
    const { ring, checks } = countingRing(base);
    const cache = new VerifiedTokens(2);
    const [a, b, c] = [await mint("a"), await mint("b"), await mint("c")];
    await cache.verify(ring, a, "default", NOW);
    await cache.verify(ring, b, "default", NOW);
    await cache.verify(ring, a, "default", NOW); // a is now the most recent
    await cache.verify(ring, c, "default", NOW); // b goes
    expect(cache.size).toBe(2);
    expect(checks()).toBe(3);
    await cache.verify(ring, a, "default", NOW);
    expect(checks()).toBe(3);
    await cache.verify(ring, b, "default", NOW);
    expect(checks()).toBe(4);
  });
});
