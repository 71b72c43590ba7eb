/**
 * The affinity-token key ring: several keys by `kid`, one of them signing, the others
 * verify-only — so a rotated-out key keeps verifying the tokens it signed until it is
 * removed. Keys may be HS256 secrets or asymmetric (ES256, EdDSA); the public halves of
 * the asymmetric ones are published as a JWKS, so origins can verify tokens themselves.
 *
 * Secrets / vars:
 * - AFFINITY_KEYS: JSON `{ "<kid>": "<base64url secret>" | <JWK>, ... }` (key-entry.ts)
 * - AFFINITY_SIGNING_KID: the kid that signs new tokens (a secret or a private JWK)
 *
 * Parsing happens once per distinct pair of strings, and each key is imported into
 * WebCrypto once, on first use — never per request.
 */
import { importJWK } from "jose";
import { ConfigError } from "../../../config/config-error.ts";
import { parseKeyEntry, type KeyEntry, type PublicJwk, type TokenAlgorithm } from "./key-entry.ts";

export type { PublicJwk, TokenAlgorithm } from "./key-entry.ts";
export { TOKEN_ALGORITHMS } from "./key-entry.ts";

export interface RingKey {
  readonly kid: string;
  /** The one algorithm this key is used with; a token naming another is refused. */
  readonly alg: TokenAlgorithm;
  /** A secret or a private JWK: may sign. A public JWK only verifies. */
  readonly canSign: boolean;
  /** Asymmetric keys only: the public half, as the JWKS serves it. */
  readonly publicJwk: PublicJwk | undefined;
  verifyKey(): Promise<CryptoKey>;
  /** Rejects with ConfigError for a verify-only key. */
  signKey(): Promise<CryptoKey>;
}

export interface KeyRing {
  readonly signingKid: string;
  readonly signing: RingKey;
  /** Every key that may verify a token, signing key included. */
  key(kid: string): RingKey | undefined;
  readonly kids: readonly string[];
  /** The public keys of the asymmetric keys (never a secret, never `d`). */
  jwks(): { keys: PublicJwk[] };
}

export interface KeyRingVars {
  AFFINITY_KEYS?: string;
  AFFINITY_SIGNING_KID?: string;
}

/** Rings by their source strings: an isolate sees one or two (during a rotation). */
const rings = new Map<string, KeyRing>();
const MAX_CACHED_RINGS = 4;

/** Throws ConfigError naming the field when the ring is invalid. */
export function resolveKeyRing(vars: KeyRingVars): KeyRing {
  const cacheKey = `${vars.AFFINITY_KEYS ?? ""}\u0000${vars.AFFINITY_SIGNING_KID ?? ""}`;
  const cached = rings.get(cacheKey);
  if (cached !== undefined) return cached;
  const ring = buildRing(vars);
  if (rings.size >= MAX_CACHED_RINGS) rings.clear();
  rings.set(cacheKey, ring);
  return ring;
}

function buildRing(vars: KeyRingVars): KeyRing {
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
    throw new ConfigError("AFFINITY_KEYS", 'must be a JSON object {"<kid>": "<base64url secret>" | <JWK>}');
  }
  const keys = new Map<string, RingKey>();
  for (const [kid, value] of Object.entries(raw)) keys.set(kid, ringKey(parseKeyEntry(kid, value)));
  const signingKid = vars.AFFINITY_SIGNING_KID ?? "";
  const signing = keys.get(signingKid);
  if (signing === undefined) {
    throw new ConfigError("AFFINITY_SIGNING_KID", `must name a key of AFFINITY_KEYS (got ${JSON.stringify(signingKid)})`);
  }
  if (!signing.canSign) {
    throw new ConfigError("AFFINITY_SIGNING_KID", `names ${JSON.stringify(signingKid)}, a public (verify-only) key: give its private JWK (with "d")`);
  }
  const publicKeys = [...keys.values()].flatMap((k) => (k.publicJwk === undefined ? [] : [k.publicJwk]));
  return {
    signingKid,
    signing,
    key: (kid) => keys.get(kid),
    kids: [...keys.keys()],
    jwks: () => ({ keys: publicKeys.map((k) => ({ ...k })) }),
  };
}

function ringKey(entry: KeyEntry): RingKey {
  const field = `AFFINITY_KEYS.${entry.kid}`;
  if (entry.kind === "hmac") {
    // One HMAC CryptoKey for both directions: jose checks it against the header's alg.
    const key = once(() =>
      imported(field, crypto.subtle.importKey("raw", entry.secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])),
    );
    return { kid: entry.kid, alg: entry.alg, canSign: true, publicJwk: undefined, verifyKey: key, signKey: key };
  }
  const { kid, alg, publicJwk, privateJwk } = entry;
  const verifyKey = once(() => imported(field, importJWK({ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, ...(publicJwk.y === undefined ? {} : { y: publicJwk.y }) }, alg)));
  const signKey =
    privateJwk === undefined
      ? () => Promise.reject(new ConfigError(field, "is a public key and cannot sign"))
      : once(() => imported(field, importJWK(privateJwk, alg)));
  return { kid, alg, canSign: privateJwk !== undefined, publicJwk, verifyKey, signKey };
}

async function imported(field: string, key: Promise<CryptoKey | Uint8Array>): Promise<CryptoKey> {
  let result: CryptoKey | Uint8Array;
  try {
    result = await key;
  } catch (err) {
    throw new ConfigError(field, `cannot be imported: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (result instanceof Uint8Array) throw new ConfigError(field, "imported as raw bytes, expected a key");
  return result;
}

/** Memoizes an async import; a failed import is retried on the next call, not cached. */
function once(load: () => Promise<CryptoKey>): () => Promise<CryptoKey> {
  let pending: Promise<CryptoKey> | undefined;
  return () => {
    pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
