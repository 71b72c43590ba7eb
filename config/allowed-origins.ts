/**
 * Which web origins may use a session through its affinity cookie (F13 of issue 16):
 * `POOLS.pools[i].settings.allowedOrigins`.
 *
 * The affinity cookie is `SameSite=None` over https (a push page is often served from a
 * host other than the edge's), so a browser sends it on requests any site makes. A request
 * whose token rides in that cookie is therefore checked against its `Origin`:
 *   - `"self"` (the default, alone): the Origin's host is the request's own host
 *     (host-name.ts: case, port and trailing dot ignored — cookies are not port-scoped either);
 *   - `"https://app.example.com"`: that exact web origin (scheme, host, port);
 *   - `"*"`: any origin (turns the check off: for pools whose pages live everywhere).
 * Tokens sent explicitly (header, query, a protocol's session id) are not ambient — a page
 * must know the token to send them — and are not checked.
 */
import { ConfigError } from "./config-error.ts";
import { normalizeHostName } from "./host-name.ts";

export type AllowedOrigins = readonly string[];

export const SELF_ORIGIN = "self";
export const ANY_ORIGIN = "*";
export const DEFAULT_ALLOWED_ORIGINS: AllowedOrigins = [SELF_ORIGIN];

/** The web origin of a URL, compared normalised: `https://app.example.com:443` → `https://app.example.com`. */
export function webOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  return `${url.protocol}//${normalizeHostName(url.hostname)}${url.port === "" ? "" : `:${url.port}`}`;
}

export function resolveAllowedOrigins(raw: unknown, field: string): AllowedOrigins {
  if (raw === undefined) return DEFAULT_ALLOWED_ORIGINS;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(field, 'must be a non-empty array of "self", "*" or web origins such as "https://app.example.com"');
  }
  return raw.map((entry, i) => {
    if (entry === SELF_ORIGIN || entry === ANY_ORIGIN) return entry;
    const origin = typeof entry === "string" ? webOrigin(entry) : undefined;
    // Only a bare origin: a path would suggest a match the Origin header can never make.
    if (origin === undefined || typeof entry !== "string" || new URL(entry).pathname.replace(/\/$/, "") !== "") {
      throw new ConfigError(`${field}[${i}]`, 'must be "self", "*" or a web origin such as "https://app.example.com"');
    }
    return origin;
  });
}

/** Whether a request from `origin` (the Origin header) to `requestHost` is allowed. */
export function originAllowed(allowed: AllowedOrigins, origin: string, requestHost: string): boolean {
  if (allowed.includes(ANY_ORIGIN)) return true;
  const normalised = webOrigin(origin);
  if (normalised === undefined) return false; // "null" (sandboxed, file:, data:) and garbage
  if (allowed.includes(normalised)) return true;
  return allowed.includes(SELF_ORIGIN) && normalizeHostName(new URL(normalised).host) === normalizeHostName(requestHost);
}
