/**
 * One entry of AFFINITY_KEYS, parsed and checked without touching WebCrypto (so the local
 * stack can validate it synchronously, naming the field):
 *
 * - a string: a base64url HMAC secret (≥ 32 bytes) → HS256, signs and verifies;
 * - a JWK object:
 *   - `{"kty":"EC","crv":"P-256","x","y","d"?}` → ES256;
 *   - `{"kty":"OKP","crv":"Ed25519","x","d"?}` → EdDSA (or `"alg":"Ed25519"`, RFC 9864's name);
 *   - `{"kty":"oct","k"}` → HS256.
 *   With `d` the key signs and verifies; without it (a public JWK) it only verifies.
 *
 * Every key has exactly one algorithm. A JWK's own `alg` must agree with its type, its
 * `kid` (if any) with the entry's name, its `use` (if any) must be `sig`.
 */
import { base64url } from "jose";
import { ConfigError } from "../../../config/config-error.ts";

export type TokenAlgorithm = "HS256" | "ES256" | "EdDSA" | "Ed25519";
/** The allow-list: what a token's header may say. Never `none`. */
export const TOKEN_ALGORITHMS: readonly TokenAlgorithm[] = ["HS256", "ES256", "EdDSA", "Ed25519"];

export const MIN_HMAC_KEY_BYTES = 32;

/** The public half of an asymmetric key, as served in the JWKS. */
export interface PublicJwk {
  readonly kty: "EC" | "OKP";
  readonly crv: "P-256" | "Ed25519";
  readonly x: string;
  readonly y?: string;
  readonly kid: string;
  readonly alg: TokenAlgorithm;
  readonly use: "sig";
}

export type KeyEntry =
  | { readonly kind: "hmac"; readonly kid: string; readonly alg: "HS256"; readonly secret: Uint8Array }
  | {
      readonly kind: "asymmetric";
      readonly kid: string;
      readonly alg: Exclude<TokenAlgorithm, "HS256">;
      readonly publicJwk: PublicJwk;
      /** The private JWK (with `d`), when this key may sign. */
      readonly privateJwk: Record<string, string> | undefined;
    };

export function parseKeyEntry(kid: string, value: unknown): KeyEntry {
  const field = `AFFINITY_KEYS.${kid}`;
  if (kid === "") throw new ConfigError("AFFINITY_KEYS", 'a key id ("kid") must not be empty');
  if (typeof value === "string") return hmacEntry(field, kid, value);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(field, "must be a base64url secret (HS256) or a JWK object (EC P-256 or OKP Ed25519)");
  }
  const jwk = value as Record<string, unknown>;
  if (jwk.kid !== undefined && jwk.kid !== kid) throw new ConfigError(`${field}.kid`, `must equal the entry's name ${JSON.stringify(kid)}`);
  if (jwk.use !== undefined && jwk.use !== "sig") throw new ConfigError(`${field}.use`, 'must be "sig"');
  switch (jwk.kty) {
    case "oct": {
      checkAlg(field, jwk.alg, ["HS256"]);
      return hmacEntry(`${field}.k`, kid, jwk.k);
    }
    case "EC": {
      if (jwk.crv !== "P-256") throw new ConfigError(`${field}.crv`, 'must be "P-256" (ES256)');
      checkAlg(field, jwk.alg, ["ES256"]);
      const x = coordinate(`${field}.x`, jwk.x, 32);
      const y = coordinate(`${field}.y`, jwk.y, 32);
      const d = jwk.d === undefined ? undefined : coordinate(`${field}.d`, jwk.d, 32);
      const publicJwk: PublicJwk = { kty: "EC", crv: "P-256", x, y, kid, alg: "ES256", use: "sig" };
      return { kind: "asymmetric", kid, alg: "ES256", publicJwk, privateJwk: d === undefined ? undefined : { kty: "EC", crv: "P-256", x, y, d } };
    }
    case "OKP": {
      if (jwk.crv !== "Ed25519") throw new ConfigError(`${field}.crv`, 'must be "Ed25519" (EdDSA)');
      const alg = checkAlg(field, jwk.alg, ["EdDSA", "Ed25519"]) ?? "EdDSA";
      const x = coordinate(`${field}.x`, jwk.x, 32);
      const d = jwk.d === undefined ? undefined : coordinate(`${field}.d`, jwk.d, 32);
      const publicJwk: PublicJwk = { kty: "OKP", crv: "Ed25519", x, kid, alg, use: "sig" };
      return { kind: "asymmetric", kid, alg, publicJwk, privateJwk: d === undefined ? undefined : { kty: "OKP", crv: "Ed25519", x, d } };
    }
    default:
      throw new ConfigError(`${field}.kty`, 'must be "EC" (P-256, ES256), "OKP" (Ed25519, EdDSA) or "oct" (HS256)');
  }
}

function hmacEntry(field: string, kid: string, secret: unknown): KeyEntry {
  if (typeof secret !== "string") throw new ConfigError(field, "must be a base64url string");
  const bytes = decode(field, secret);
  if (bytes.length < MIN_HMAC_KEY_BYTES) throw new ConfigError(field, `must decode to at least ${MIN_HMAC_KEY_BYTES} bytes`);
  return { kind: "hmac", kid, alg: "HS256", secret: bytes };
}

function checkAlg<A extends TokenAlgorithm>(field: string, alg: unknown, allowed: readonly A[]): A | undefined {
  if (alg === undefined) return undefined;
  if (typeof alg === "string" && (allowed as readonly string[]).includes(alg)) return alg as A;
  throw new ConfigError(`${field}.alg`, `must be ${allowed.map((a) => JSON.stringify(a)).join(" or ")} for this key type`);
}

function coordinate(field: string, value: unknown, bytes: number): string {
  if (typeof value !== "string") throw new ConfigError(field, "must be a base64url string");
  if (decode(field, value).length !== bytes) throw new ConfigError(field, `must decode to ${bytes} bytes`);
  return value;
}

function decode(field: string, value: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) throw new ConfigError(field, "is not base64url");
  try {
    return base64url.decode(value);
  } catch {
    throw new ConfigError(field, "is not base64url");
  }
}
