/**
 * The edge Worker's routes: the edge's own endpoints under /_edge/, and every other
 * request treated as part of a push session (S or CR).
 */
import { Hono } from "hono";
import { errorResponse } from "../../protocols/errors.ts";
import { dashboardRoutes } from "./dashboard/page.ts";
import { adminRoutes } from "./routes/admin.ts";
import { adminSessionLookupRoutes } from "./routes/admin-session-lookup.ts";
import { adminStreamRoutes } from "./routes/admin-stream.ts";
import { JWKS_PATH, jwks } from "./routes/jwks.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { edgeOnError } from "./on-error.ts";
import { sessionRoutes, type EdgeEnv } from "./routes/sessions.ts";

export function createApp(): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.get("/_edge/health", (c) => c.json({ ok: true }));
  app.get(JWKS_PATH, jwks());
  app.route("/_edge/dashboard", dashboardRoutes());
  app.route("/_edge/metrics", metricsRoutes());
  app.route("/_edge/admin", adminStreamRoutes());
  app.route("/_edge/admin", adminSessionLookupRoutes());
  app.route("/_edge/admin", adminRoutes());
  app.all("/_edge/*", () => errorResponse(404, "not_found", "no such edge endpoint"));
  app.all("*", sessionRoutes());

  app.onError(edgeOnError);
  return app;
}
