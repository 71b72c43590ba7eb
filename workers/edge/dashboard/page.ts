/**
 * GET /_edge/dashboard: the operator's dashboard, one self-contained HTML page (inline
 * CSS and vanilla JS, no framework, no CDN, nothing to build — wrangler bundles `.html`
 * as a string).
 *
 * Authentication: the page itself holds no data and no secret, so it is served without
 * the admin token — a browser navigation cannot send a Bearer header. Everything it shows
 * or changes goes through the admin API with `Authorization: Bearer <token>`; the token is
 * typed into the page's sign-in form and kept in sessionStorage (this tab only). No cookie
 * is involved, so another site cannot make a signed-in browser drain an origin (CSRF).
 * A per-response CSP nonce lets only the page's own script run.
 */
import { Hono } from "hono";
import { adminHost } from "../routes/admin.ts";
import type { AdminEnv } from "../routes/admin-audit.ts";
import { DASHBOARD_HTML } from "./dashboard-html.ts";

export function dashboardRoutes(): Hono<AdminEnv> {
  const routes = new Hono<AdminEnv>();
  // Only on admin hosts (ADMIN_HOSTS), like the API it drives: not on a pool's public name.
  routes.get("/", adminHost(), function dashboardPage(c) {
    const nonce = crypto.randomUUID().replace(/-/g, "");
    return c.body(DASHBOARD_HTML.replaceAll("{{NONCE}}", nonce), 200, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
  });
  return routes;
}
