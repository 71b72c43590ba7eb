/**
 * Per-isolate parsed configuration. Parsing and key import happen once per isolate (and
 * again only if the raw vars change), never per request.
 */
import { resolveConfig, type EdgeConfig } from "./config.ts";
import { resolveKeyRing, type KeyRing } from "./token/keyring.ts";

export interface EdgeRuntime {
  readonly config: EdgeConfig;
  readonly keys: KeyRing;
}

let cached: { raw: string; runtime: EdgeRuntime } | undefined;

/** Throws ConfigError (naming the field) when the configuration is invalid. */
export function edgeRuntime(env: Env): EdgeRuntime {
  const raw = `${env.POOLS}\u0000${env.TOKEN_TTL_SECONDS}\u0000${env.AFFINITY_KEYS}\u0000${env.AFFINITY_SIGNING_KID}\u0000${env.PROXY_AUTH_KEYS}`;
  if (cached?.raw !== raw) {
    cached = { raw, runtime: { config: resolveConfig(env), keys: resolveKeyRing(env) } };
  }
  return cached.runtime;
}
