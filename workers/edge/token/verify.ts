/**
 * Verifies an affinity token on every CR request: algorithm, key (by `kid`), signature,
 * expiry and audience (the pool). Expected failures are values, not exceptions: the caller
 * maps each reason to its own status and stable code (relay-session.ts).
 *
 * Algorithm rules: the header's `alg` must be on the allow-list (never `none`) and equal
 * the algorithm of the key its `kid` names. So an HS256 token "signed" with an ES256 public
 * key's bytes as HMAC secret is refused before any signature is computed — and even
 * then jose would refuse to use an ECDSA key for HMAC.
 */
import { errors, jwtVerify, type JWTPayload } from "jose";
import type { AffinityClaims } from "./claims.ts";
import { TOKEN_ALGORITHMS, type KeyRing } from "./keyring.ts";

export type TokenFailure =
  | "malformed"
  | "bad_algorithm"
  | "unknown_kid"
  | "bad_signature"
  | "expired"
  | "wrong_pool"
  | "bad_claims"
  /** Not produced here: network.ts, when the edge binds tokens to the client's network. */
  | "wrong_network";

export type VerifyResult =
  | { readonly ok: true; readonly claims: AffinityClaims; readonly kid: string }
  | { readonly ok: false; readonly reason: TokenFailure; readonly detail: string };

/** Tolerated clock difference between edge locations, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 30;

export async function verifyAffinityToken(
  keys: KeyRing,
  token: string,
  expectedPool: string,
  now?: number,
): Promise<VerifyResult> {
  let kid = "";
  try {
    const { payload, protectedHeader } = await jwtVerify(
      token,
      async (header) => {
        kid = header.kid ?? "";
        const key = keys.key(kid);
        if (key === undefined) throw new Refused("unknown_kid", `unknown key id ${JSON.stringify(kid)}`);
        if (header.alg !== key.alg) {
          throw new Refused("bad_algorithm", `key ${JSON.stringify(kid)} is ${key.alg}, the token says ${String(header.alg)}`);
        }
        return key.verifyKey();
      },
      {
        algorithms: [...TOKEN_ALGORITHMS],
        audience: expectedPool,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp", "iat", "aud"],
        ...(now === undefined ? {} : { currentDate: new Date(now * 1000) }),
      },
    );
    const claims = toClaims(payload);
    if (claims === undefined) return { ok: false, reason: "bad_claims", detail: "sk/o/net claims missing or not strings" };
    return { ok: true, claims, kid: protectedHeader.kid ?? kid };
  } catch (err) {
    return { ok: false, ...classify(err) };
  }
}

class Refused extends Error {
  readonly reason: TokenFailure;
  constructor(reason: TokenFailure, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

function classify(err: unknown): { reason: TokenFailure; detail: string } {
  if (err instanceof Refused) return { reason: err.reason, detail: err.message };
  if (err instanceof errors.JWTExpired) return { reason: "expired", detail: "token expired" };
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "aud") return { reason: "wrong_pool", detail: "token belongs to another pool" };
    return { reason: "bad_claims", detail: `claim ${err.claim}: ${err.reason}` };
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return { reason: "bad_signature", detail: "signature mismatch" };
  if (err instanceof errors.JOSEAlgNotAllowed) return { reason: "bad_algorithm", detail: "algorithm not allowed" };
  return { reason: "malformed", detail: err instanceof Error ? err.message : "unparseable token" };
}

function toClaims(payload: JWTPayload): AffinityClaims | undefined {
  const { sk, o, aud, iat, exp, net } = payload as JWTPayload & { sk?: unknown; o?: unknown; net?: unknown };
  if (typeof sk !== "string" || sk === "" || typeof o !== "string" || o === "") return undefined;
  if (typeof aud !== "string" || typeof iat !== "number" || typeof exp !== "number") return undefined;
  if (net !== undefined && typeof net !== "string") return undefined;
  return { sk, o, aud, iat, exp, ...(net === undefined ? {} : { net }) };
}
