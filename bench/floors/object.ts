/**
 * `floor-object`: the least a Worker + SQLite-backed Durable Object can do as a relay. A
 * request without `x-floor-object` is a new session: a new object (newUniqueId) writes one
 * row — its origin — and relays the request; the response names the object in
 * `x-floor-object`. A request that names an object is relayed by that object to the
 * origin its row holds. WebSockets are piped inside the object (pipe.ts), as the edge's
 * `object` relay mode does. The bench's "as fast as a Durable Object relay allows".
 */
import { DurableObject } from "cloudflare:workers";
import { isWebSocket, nextOrigin, onOrigin, originsOf, relayWebSocket } from "./pipe.ts";

interface Env {
  readonly ORIGINS: string;
  readonly FLOOR: DurableObjectNamespace<FloorObject>;
}

const OBJECT_HEADER = "x-floor-object";
const ORIGIN_HEADER = "x-floor-origin-url";

export class FloorObject extends DurableObject<Env> {
  #origin: string | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS session (origin TEXT NOT NULL)");
    const row = ctx.storage.sql.exec<{ origin: string }>("SELECT origin FROM session LIMIT 1").toArray()[0];
    this.#origin = row?.origin;
  }

  override async fetch(request: Request): Promise<Response> {
    const placed = request.headers.get(ORIGIN_HEADER);
    if (placed !== null && this.#origin === undefined) {
      this.ctx.storage.sql.exec("INSERT INTO session (origin) VALUES (?)", placed);
      this.#origin = placed;
    }
    if (this.#origin === undefined) return Response.json({ error: "session_not_found", message: "this floor object holds no session" }, { status: 404 });
    const headers = new Headers(request.headers);
    headers.delete(ORIGIN_HEADER);
    headers.delete(OBJECT_HEADER);
    const target = onOrigin(request.url, this.#origin);
    const named = new Headers({ [OBJECT_HEADER]: this.ctx.id.toString() });
    if (isWebSocket(request)) return relayWebSocket(new Request(request.url, { headers }), target, named);
    const response = await fetch(new Request(target, { method: request.method, headers, body: request.body }));
    const out = new Response(response.body, response);
    out.headers.set(OBJECT_HEADER, this.ctx.id.toString());
    return out;
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const named = request.headers.get(OBJECT_HEADER);
    if (named !== null) return env.FLOOR.get(env.FLOOR.idFromString(named)).fetch(request);
    const origin = nextOrigin(originsOf(env.ORIGINS));
    const forwarded = new Request(request);
    forwarded.headers.set(ORIGIN_HEADER, origin.url);
    return env.FLOOR.get(env.FLOOR.newUniqueId()).fetch(forwarded);
  },
} satisfies ExportedHandler<Env>;
