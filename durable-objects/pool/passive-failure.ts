/**
 * Passive health: what real traffic tells the coordinator about an origin, and how the pool
 * view says it. Any of these takes the origin out of placement at once (a relay failure
 * counts for a whole `fall`); active checks bring it back after `rise` good rounds (with
 * `health.type: "none"`, `rise` intervals without a new failure).
 */

export const PASSIVE_KINDS = ["origin_unreachable", "http_5xx"] as const;
export type PassiveKind = (typeof PASSIVE_KINDS)[number];

export function isPassiveKind(value: unknown): value is PassiveKind {
  return typeof value === "string" && (PASSIVE_KINDS as readonly string[]).includes(value);
}

/** The pool view's words for a failure seen on real traffic; `detail` is the edge's own account. */
export function passiveFailureText(kind: PassiveKind, detail: string | undefined): string {
  const what =
    kind === "origin_unreachable"
      ? "a request could not reach it (connection refused, reset or timed out)"
      : `it answered 5xx repeatedly${detail === undefined ? "" : ` (${detail})`}`;
  return `traffic: ${what} — out of placement until its health checks pass again`;
}
