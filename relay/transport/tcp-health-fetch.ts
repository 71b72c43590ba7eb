/**
 * Health checks of a `tcp` origin go the way its sessions do: over a raw connection that
 * starts with a PROXY header — a PROXY-only listener would refuse a plain fetch(). The
 * header is LOCAL (v2) or UNKNOWN (v1): the edge speaks for itself and claims no client,
 * so it needs no authentication TLV.
 */
import type { ProxySettings } from "./settings.ts";
import { openOriginConnection } from "./tcp/connect.ts";
import { exchange } from "./tcp/http1-client.ts";
import { proxyHeaderLocal } from "./tcp/proxy-header.ts";
import { clientResponseHeaders } from "./tcp-origin-connection.ts";

export type HealthFetch = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

/** A fetch() stand-in for GET requests to a PROXY-protocol origin; honours the abort signal. */
export function tcpHealthFetch(proxy: ProxySettings): HealthFetch {
  return async function tcpHealthFetch(url, init) {
    const target = new URL(url);
    const aborted = new Promise<never>((_, reject) => {
      if (init.signal.aborted) reject(init.signal.reason);
      init.signal.addEventListener("abort", () => reject(init.signal.reason), { once: true });
    });
    const connection = await Promise.race([openOriginConnection(target.origin, proxyHeaderLocal(proxy.version)), aborted]);
    init.signal.addEventListener("abort", () => connection.close(), { once: true });
    const headers = new Headers({ host: target.host, connection: "close", accept: "application/json" });
    const result = await Promise.race([exchange(connection, { method: "GET", target: `${target.pathname}${target.search}`, headers, body: null }), aborted]);
    if (result.kind === "upgrade") {
      connection.close();
      throw new Error("health check answered 101");
    }
    const { head, body } = result;
    if (head.status < 200 || head.status > 599) throw new Error(`health check answered ${head.status}`);
    return new Response(body, { status: head.status, headers: clientResponseHeaders(head.headers) });
  };
}
