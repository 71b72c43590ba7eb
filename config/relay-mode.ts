/**
 * `POOLS.pools[i].settings.relay`: where a session's long-lived legs (WebSockets,
 * streaming responses) are pumped.
 * - `edge` (default): by the edge Worker that received the request, after the session
 *   object admitted the leg; the session object sleeps (hibernates) between requests.
 * - `object`: every byte through the session object, which stays resident while a leg is
 *   open (docs/relay-modes.md says what each costs).
 * The mode is fixed per session at creation (it travels in the create route and sits in
 * the session's record), so a config change never switches a session under way.
 */
import { ConfigError } from "./config-error.ts";

export const RELAY_MODES = ["edge", "object"] as const;
export type RelayMode = (typeof RELAY_MODES)[number];
export const DEFAULT_RELAY_MODE: RelayMode = "edge";

export function isRelayMode(value: unknown): value is RelayMode {
  return typeof value === "string" && (RELAY_MODES as readonly string[]).includes(value);
}

export function resolveRelayMode(raw: unknown, field: string): RelayMode {
  if (raw === undefined) return DEFAULT_RELAY_MODE;
  if (!isRelayMode(raw)) throw new ConfigError(field, `expected one of ${RELAY_MODES.map((m) => `"${m}"`).join(", ")}`);
  return raw;
}
