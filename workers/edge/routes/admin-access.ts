/**
 * Who may use the admin API, and on which host names.
 *
 * Tokens: `ADMIN_TOKEN` (named "admin") and/or `ADMIN_TOKENS`, a JSON object
 * `{"<name>": "<token>", ...}` so each operator or tool has its own token, named in the
 * audit log and revoked alone. A presented token is compared with every configured token
 * in constant time, so neither which token nor how much of it matched shows in timings.
 *
 * Hosts: `ADMIN_HOSTS`, a comma list of host names ("*" = any). When empty (the default),
 * the admin API answers on any host that no pool names explicitly — the workers.dev host,
 * a route set aside for operations, 127.0.0.1 locally — and never on a pool's own public
 * host name, where it would share a hostname (and its logs, caches, WAF rules) with clients.
 */
import { ConfigError } from "../../../config/config-error.ts";
import type { EdgeConfig } from "../../../config/config.ts";
import { hostList, normalizeHostName } from "../../../config/host-name.ts";

export interface AdminToken {
  readonly name: string;
  readonly token: string;
}

/**
 * The shortest admin token the edge serves with (ADMIN_TOKEN and ADMIN_TOKENS alike).
 * deploy:check asks for 32 outside dev; 16 is the floor below which the edge refuses.
 */
export const MIN_RUNTIME_TOKEN_LENGTH = 16;

let cachedTokens: { raw: string; tokens: readonly AdminToken[] } | undefined;

/** Throws ConfigError naming ADMIN_TOKENS when it is not a JSON object of non-empty strings. */
export function adminTokens(env: { ADMIN_TOKEN?: string; ADMIN_TOKENS?: string }): readonly AdminToken[] {
  const raw = `${env.ADMIN_TOKEN ?? ""}\u0000${env.ADMIN_TOKENS ?? ""}`;
  if (cachedTokens?.raw === raw) return cachedTokens.tokens;
  const tokens: AdminToken[] = [];
  if (env.ADMIN_TOKEN !== undefined && env.ADMIN_TOKEN !== "") {
    // Refused at runtime too (F8 of issue 16), not only by deploy:check: a short token is
    // a guessable one, and the edge would otherwise serve the admin API behind it.
    if (env.ADMIN_TOKEN.length < MIN_RUNTIME_TOKEN_LENGTH) {
      throw new ConfigError("ADMIN_TOKEN", `must be at least ${MIN_RUNTIME_TOKEN_LENGTH} characters (generate one with openssl rand -base64 32)`);
    }
    tokens.push({ name: "admin", token: env.ADMIN_TOKEN });
  }
  if (env.ADMIN_TOKENS !== undefined && env.ADMIN_TOKENS !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.ADMIN_TOKENS);
    } catch {
      throw new ConfigError("ADMIN_TOKENS", "is not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError("ADMIN_TOKENS", 'must be a JSON object {"<name>": "<token>"}');
    }
    for (const [name, token] of Object.entries(parsed)) {
      if (typeof token !== "string" || token.length < MIN_RUNTIME_TOKEN_LENGTH) {
        throw new ConfigError(`ADMIN_TOKENS.${name}`, `must be a string of at least ${MIN_RUNTIME_TOKEN_LENGTH} characters`);
      }
      tokens.push({ name, token });
    }
  }
  cachedTokens = { raw, tokens };
  return tokens;
}

/** The configured token equal to `given`, compared with all of them in constant time. */
export function matchAdminToken(tokens: readonly AdminToken[], given: string): AdminToken | undefined {
  let found: AdminToken | undefined;
  for (const t of tokens) {
    if (sameSecret(given, t.token) && found === undefined) found = t;
  }
  return found;
}

/** Constant-time comparison, so a token cannot be guessed byte by byte from timings. */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * Whether the admin API answers on this host name (see the header comment). Both sides
 * are normalised (host-name.ts): `a.test.` or `A.TEST:443` is the pool's host `a.test`.
 */
export function adminHostAllowed(adminHosts: string | undefined, config: EdgeConfig, hostname: string): boolean {
  const host = normalizeHostName(hostname);
  const listed = hostList(adminHosts);
  if (listed.length > 0) return listed.includes("*") || listed.includes(host);
  return !config.pools.some((p) => p.hosts.includes(host));
}

/** A short, stable, non-reversible name for a token in logs. */
export async function tokenId(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
