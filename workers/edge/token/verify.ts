/**
 * Verifies an affinity token on every CR request: signature (by `kid`, HS256 only — so
 * `alg: none` and algorithm confusion are refused), expiry, and audience (the pool).
 * Expected failures are values, not exceptions: the caller maps the reason to 401/403.
 */
import { errors, jwtVerify, type JWTPayload } from "jose";
import type { AffinityClaims } from "./claims.ts";
import { hmacKey } from "./imported-key.ts";
import { TOKEN_ALGORITHM, type KeyRing } from "./keyring.ts";

export type TokenFailure = "malformed" | "unknown_kid" | "bad_signature" | "expired" | "wrong_pool" | "bad_claims";

export type VerifyResult =
  | { readonly ok: true; readonly claims: AffinityClaims; readonly kid: string }
  | { readonly ok: false; readonly reason: TokenFailure; readonly detail: string };

/** Tolerated clock difference between edge locations, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 30;

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
      (header) => {
        kid = header.kid ?? "";
        const key = keys.key(kid);
        if (key === undefined) throw new UnknownKid(kid);
        return hmacKey(key);
      },
      {
        algorithms: [TOKEN_ALGORITHM],
        audience: expectedPool,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp", "iat", "aud"],
        ...(now === undefined ? {} : { currentDate: new Date(now * 1000) }),
      },
    );
    const claims = toClaims(payload);
    if (claims === undefined) return { ok: false, reason: "bad_claims", detail: "sk/o claims missing or not strings" };
    return { ok: true, claims, kid: protectedHeader.kid ?? kid };
  } catch (err) {
    return { ok: false, ...classify(err) };
  }
}

class UnknownKid extends Error {
  constructor(kid: string) {
    super(`unknown key id ${JSON.stringify(kid)}`);
  }
}

function classify(err: unknown): { reason: TokenFailure; detail: string } {
  if (err instanceof UnknownKid) return { reason: "unknown_kid", detail: err.message };
  if (err instanceof errors.JWTExpired) return { reason: "expired", detail: "token expired" };
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "aud") return { reason: "wrong_pool", detail: "token belongs to another pool" };
    return { reason: "bad_claims", detail: `claim ${err.claim}: ${err.reason}` };
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return { reason: "bad_signature", detail: "signature mismatch" };
  if (err instanceof errors.JOSEAlgNotAllowed) return { reason: "malformed", detail: "algorithm not allowed" };
  return { reason: "malformed", detail: err instanceof Error ? err.message : "unparseable token" };
}

function toClaims(payload: JWTPayload): AffinityClaims | undefined {
  const { sk, o, aud, iat, exp } = payload as JWTPayload & { sk?: unknown; o?: unknown };
  if (typeof sk !== "string" || sk === "" || typeof o !== "string" || o === "") return undefined;
  if (typeof aud !== "string" || typeof iat !== "number" || typeof exp !== "number") return undefined;
  return { sk, o, aud, iat, exp };
}
