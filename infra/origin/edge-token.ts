// Verifying push-edge's affinity tokens at the origin (`--jwks-url URL`): the edge hands
// each CR request's verified token to the origin in `X-Push-Edge-Token`, and an origin
// that checks it itself — against the public keys the edge publishes at
// /_edge/.well-known/jwks.json — refuses CR requests that did not come through the edge
// with a token for a session on *this* origin: no token, a forged or expired one, or one
// naming another origin (`o` claim). Answers 403 JSON.
//
// Session binding (issue 16 F4): the edge forwards the new session's token on S requests
// too, and a session created with one remembers its `sk`; a CR request of the generic
// protocol is then served only when its token's `sk` is that session's — a token for
// session A with the path /session/<B> is refused (generic-protocol.ts requireSession).
//
// Keys: fetched on first use, cached (`cacheMaxAge`), and refetched when a token names an
// unknown `kid` (a rotation) — at most once per cooldown, so a flood of made-up kids
// cannot turn into a flood of JWKS fetches. Only asymmetric algorithms: the JWKS holds no
// HMAC secrets, and `none` is never accepted.

import type { IncomingHttpHeaders } from "node:http";
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import { HttpError } from "./http-io.ts";
import type { RouteName } from "./routes.ts";

export const EDGE_TOKEN_HEADER = "x-push-edge-token";
export const EDGE_TOKEN_ALGORITHMS = ["ES256", "EdDSA", "Ed25519"];
/** Minimum time between two JWKS fetches. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Keys are refetched at least this often even when every kid is known. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;
const CLOCK_TOLERANCE_SECONDS = 30;

/** Requests of an existing session: the ones that must carry the edge's token. */
const CR_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>([
  "session-info",
  "session-stream",
  "session-control",
  "session-ws",
  "tlcp-bind",
  "tlcp-control",
  "tlcp-msg",
  "tlcp-heartbeat",
]);

/** Requests that create a session: a token, when the edge sent one, names the new session. */
const S_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>(["session-create", "ws-create"]);

/** Checks the request's token where its route needs one; resolves to the token's `sk` (the edge's session key), if any. */
export type EdgeTokenCheck = (route: RouteName | undefined, method: string, headers: IncomingHttpHeaders) => Promise<string | undefined>;

export function createEdgeTokenCheck(
  originId: string,
  jwksUrl: URL,
  timing: { cooldownMs?: number; maxAgeMs?: number } = {},
): EdgeTokenCheck {
  const keys = createRemoteJWKSet(jwksUrl, {
    cooldownDuration: timing.cooldownMs ?? JWKS_COOLDOWN_MS,
    cacheMaxAge: timing.maxAgeMs ?? JWKS_MAX_AGE_MS,
  });
  return async function checkEdgeToken(route, method, headers) {
    // CORS preflights carry no credentials by design.
    if (route === undefined || method === "OPTIONS") return undefined;
    const creates = S_ROUTES.has(route);
    if (!creates && !CR_ROUTES.has(route)) return undefined;
    const header = headers[EDGE_TOKEN_HEADER];
    const token = Array.isArray(header) ? header[0] : header;
    if (token === undefined || token === "") {
      // S requests need none (a session made without one is bound to no token, and no
      // token-carrying CR request is served for it); CR requests do.
      if (creates) return undefined;
      throw new HttpError(403, "token_missing", "this request carries no push-edge token (X-Push-Edge-Token)");
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, {
        algorithms: EDGE_TOKEN_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp", "o", "sk"],
      }));
    } catch (error) {
      throw new HttpError(403, "token_invalid", `push-edge token refused: ${describe(error)}`);
    }
    if (claims.o !== originId) {
      throw new HttpError(403, "token_wrong_origin", `push-edge token is for origin ${JSON.stringify(claims.o)}, this is ${originId}`);
    }
    return typeof claims.sk === "string" ? claims.sk : undefined;
  };
}

function describe(error: unknown): string {
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the edge's JWKS matches";
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (error instanceof errors.JOSEAlgNotAllowed) return "algorithm not allowed";
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError) return error.message;
  // Fetch failures: the edge's JWKS is unreachable; refuse rather than let anyone in.
  return error instanceof Error ? `cannot check (${error.message})` : "cannot check";
}
