/**
 * The affinity-token key ring: several HMAC keys by `kid`, one of them signing, the
 * others verify-only (so a rotated-out key keeps verifying the tokens it signed).
 *
 * Secrets (set with `wrangler secret put`):
 * - AFFINITY_KEYS: JSON object `{ "<kid>": "<base64url secret, >= 32 bytes>", ... }`
 * - AFFINITY_SIGNING_KID: the kid that signs new tokens (must be in AFFINITY_KEYS)
 */
import { base64url } from "jose";
import { ConfigError } from "../config.ts";

export const TOKEN_ALGORITHM = "HS256";
const MIN_KEY_BYTES = 32;

export interface KeyRing {
  readonly signingKid: string;
  readonly signingKey: Uint8Array;
  /** Every key that may verify a token, signing key included. */
  key(kid: string): Uint8Array | undefined;
  readonly kids: readonly string[];
}

export function resolveKeyRing(vars: { AFFINITY_KEYS?: string; AFFINITY_SIGNING_KID?: string }): KeyRing {
  if (vars.AFFINITY_KEYS === undefined || vars.AFFINITY_KEYS === "") {
    throw new ConfigError("AFFINITY_KEYS", "is not set (wrangler secret put AFFINITY_KEYS)");
  }
  let raw: unknown;
  try {
    raw = JSON.parse(vars.AFFINITY_KEYS);
  } catch {
    throw new ConfigError("AFFINITY_KEYS", "is not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError("AFFINITY_KEYS", 'must be a JSON object {"<kid>": "<base64url secret>"}');
  }
  const keys = new Map<string, Uint8Array>();
  for (const [kid, secret] of Object.entries(raw)) {
    if (typeof secret !== "string") throw new ConfigError(`AFFINITY_KEYS.${kid}`, "must be a base64url string");
    let bytes: Uint8Array;
    try {
      bytes = base64url.decode(secret);
    } catch {
      throw new ConfigError(`AFFINITY_KEYS.${kid}`, "is not base64url");
    }
    if (bytes.length < MIN_KEY_BYTES) {
      throw new ConfigError(`AFFINITY_KEYS.${kid}`, `must decode to at least ${MIN_KEY_BYTES} bytes`);
    }
    keys.set(kid, bytes);
  }
  const signingKid = vars.AFFINITY_SIGNING_KID ?? "";
  const signingKey = keys.get(signingKid);
  if (signingKey === undefined) {
    throw new ConfigError("AFFINITY_SIGNING_KID", `must name a key of AFFINITY_KEYS (got ${JSON.stringify(signingKid)})`);
  }
  return { signingKid, signingKey, key: (kid) => keys.get(kid), kids: [...keys.keys()] };
}
