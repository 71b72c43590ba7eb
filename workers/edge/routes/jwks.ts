/**
 * `GET /_edge/.well-known/jwks.json`: the public keys of the key ring's asymmetric keys
 * (ES256, EdDSA), so origins can verify affinity tokens themselves. Public by nature: no
 * authentication, served on every host. HS256 secrets never appear, nor any private part.
 *
 * Cached for 5 minutes. A rotation adds the new key (verify-only) before it signs, so
 * caches see it first; an origin that meets an unknown `kid` refetches anyway.
 */
import type { Context } from "hono";
import { edgeRuntime } from "../runtime.ts";
import type { EdgeEnv } from "./sessions.ts";

export const JWKS_PATH = "/_edge/.well-known/jwks.json";
export const JWKS_MAX_AGE_SECONDS = 300;

export const jwks = () =>
  function jwks(c: Context<EdgeEnv>): Response {
    const body = edgeRuntime(c.env).keys.jwks();
    return c.json(body, 200, {
      "cache-control": `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
      "content-type": "application/jwk-set+json",
    });
  };
