/**
 * `floor-worker`: the least a Worker can do in front of the origins. A request goes to the
 * origin its `x-floor-origin` header names (the origin id a previous response carried in
 * `X-Origin-Id`), or round robin when it names none; WebSockets are piped by pipe.ts.
 * No token, no Durable Object, no checks — the bench's "as fast as a Worker allows".
 */
import { isWebSocket, nextOrigin, onOrigin, originsOf, relayWebSocket } from "./pipe.ts";

interface Env {
  readonly ORIGINS: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const origins = originsOf(env.ORIGINS);
    const named = request.headers.get("x-floor-origin");
    const origin = (named === null ? undefined : origins.find((o) => o.id === named)) ?? nextOrigin(origins);
    const target = onOrigin(request.url, origin.url);
    if (isWebSocket(request)) return relayWebSocket(request, target);
    return fetch(new Request(target, request));
  },
} satisfies ExportedHandler<Env>;
