/**
 * Per-isolate parsed configuration. Parsing and key import happen once per isolate (and
 * again only if the raw vars change), never per request.
 */
import { resolveConfig, type EdgeConfig } from "../../config/config.ts";
import { resolveKeyRing, type KeyRing } from "./token/keyring.ts";

export interface EdgeRuntime {
  readonly config: EdgeConfig;
  readonly keys: KeyRing;
}

/** The vars the runtime is parsed from; a change to any of them parses again. */
const SOURCES = ["POOLS", "TOKEN_TTL_SECONDS", "MAX_OPEN_RELAYS", "AFFINITY_KEYS", "AFFINITY_SIGNING_KID", "PROXY_AUTH_KEYS"] as const;

let cached: { env: Env; raw: readonly unknown[]; runtime: EdgeRuntime } | undefined;

/** Throws ConfigError (naming the field) when the configuration is invalid. */
export function edgeRuntime(env: Env): EdgeRuntime {
  // The same env object as last time: nothing to compare. Otherwise the vars are compared
  // one by one (joining them first copied a few KiB per request).
  if (cached?.env === env) return cached.runtime;
  if (cached === undefined || !sameSources(cached.raw, env)) {
    cached = { env, raw: SOURCES.map((name) => env[name]), runtime: { config: resolveConfig(env), keys: resolveKeyRing(env) } };
  } else {
    cached.env = env;
  }
  return cached.runtime;
}

function sameSources(raw: readonly unknown[], env: Env): boolean {
  for (let i = 0; i < SOURCES.length; i++) {
    if (raw[i] !== env[SOURCES[i]!]) return false;
  }
  return true;
}
