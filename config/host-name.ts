/**
 * One way to compare host names (F6 of issue 16). A request's host can name the same
 * host in several spellings — `A.Test`, `a.test.` (the absolute DNS form: the trailing
 * dot is the root, and resolvers and Cloudflare's front line treat it as the same name),
 * `a.test:8787` — and a gate that compares one spelling with another is open to the
 * others. Every place that matches a host (pool selection, the admin host gate behind
 * the admin API, dashboard and metrics, the Origin check of cookie-carried requests)
 * compares the normalised form: lower case, no port, no trailing dot.
 */

/** `Host`-header or URL host (with or without port, IPv6 bracketed) → the name compared. */
export function normalizeHostName(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith("[")) {
    // IPv6 literal: "[::1]:8787" → "[::1]"; the colons inside are not a port.
    const end = name.indexOf("]");
    return end < 0 ? name : name.slice(0, end + 1);
  }
  name = name.replace(/:\d*$/, "");
  return name.replace(/\.+$/, "");
}

/** A comma list of host names (ADMIN_HOSTS), normalised; `*` stays `*`. */
export function hostList(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "")
    .map((h) => (h === "*" ? h : normalizeHostName(h)));
}
