/**
 * Tokens this isolate has verified, so that a session's next CR requests skip the
 * signature: a client sends the same token on every control and rebind request of its
 * session, and verifying it (jose: decode, WebCrypto, claims) was 90–104 µs of the
 * ≈ 1.2 ms of CPU a CR costs the edge with the local HS256 keys (`cpu-profile --inclusive
 * admitToken`, docs/performance.md); a hit costs 14–19 µs.
 *
 * What a hit still checks, so that it answers as a full verification would:
 * - the exact token string and pool (a Map key: a token that differs in one byte misses);
 * - expiry, against the clock of this request, with the same tolerance;
 * - the key that verified it is still the ring's key for its `kid`: a changed
 *   AFFINITY_KEYS builds a new ring (keyring.ts), whose keys are new objects, so every
 *   token verified under the old one is verified again — a key removed in a rotation
 *   stops admitting its tokens at once.
 *
 * Only tokens that verified are kept: forged, expired or another pool's never enter it,
 * so requests without a valid token cannot fill it. It is bounded (MAX_ENTRIES, least
 * recently used out first; one pushed out is only verified again on its next use) and per
 * isolate, like the key ring; a new deployment starts empty.
 */
import type { AffinityClaims } from "./claims.ts";
import type { KeyRing, RingKey } from "./keyring.ts";
import { CLOCK_TOLERANCE_SECONDS, verifyAffinityToken, type VerifyResult } from "./verify.ts";

/** ≈ 0.5 KiB each (the token string and its claims): at most ≈ 1 MiB of the isolate's memory. */
export const MAX_ENTRIES = 2_048;

interface Entry {
  readonly claims: AffinityClaims;
  readonly kid: string;
  readonly key: RingKey;
}

export class VerifiedTokens {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;

  constructor(max = MAX_ENTRIES) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The same answer as `verifyAffinityToken(keys, token, pool)` at `nowSeconds`. */
  async verify(keys: KeyRing, token: string, pool: string, nowSeconds = Date.now() / 1000): Promise<VerifyResult> {
    const cacheKey = `${pool}\u0000${token}`;
    const hit = this.#entries.get(cacheKey);
    if (hit !== undefined) {
      this.#entries.delete(cacheKey);
      if (keys.key(hit.kid) === hit.key && nowSeconds < hit.claims.exp + CLOCK_TOLERANCE_SECONDS) {
        this.#entries.set(cacheKey, hit);
        return { ok: true, claims: hit.claims, kid: hit.kid };
      }
    }
    const result = await verifyAffinityToken(keys, token, pool, nowSeconds);
    const key = result.ok ? keys.key(result.kid) : undefined;
    if (result.ok && key !== undefined) {
      if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
      this.#entries.set(cacheKey, { claims: result.claims, kid: result.kid, key });
    }
    return result;
  }
}
