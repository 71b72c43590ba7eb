/**
 * How a health check reaches an origin, from the origin's transport (relay/transport/
 * origin-transport.ts, the one place that knows which kind it is): a GET-only fetch (the runtime's fetch, or a raw
 * connection that starts with a PROXY LOCAL header for a `tcp` origin — a PROXY-only
 * listener would refuse anything else) and a bare connect (with that same header).
 */
import type { HealthFetch } from "../../../relay/transport/tcp-health-fetch.ts";
import { originTransport } from "../../../relay/transport/origin-transport.ts";
import { openOriginConnection } from "../../../relay/transport/tcp/connect.ts";
import type { TransportSettings } from "../../../relay/transport/settings.ts";

export type { HealthFetch } from "../../../relay/transport/tcp-health-fetch.ts";

/** Opens a connection (sending what the origin expects first) and closes it; throws when it cannot. */
export type Connector = (originUrl: string, timeoutMs: number) => Promise<void>;

export interface OriginAccess {
  readonly fetch: HealthFetch;
  readonly connect: Connector;
}

export function originAccess(transport: TransportSettings): OriginAccess {
  const via = originTransport(transport);
  const header = via.healthPreamble();
  return {
    fetch: via.healthFetch((url, init) => fetch(url, init)),
    connect: async function connectOnce(originUrl, timeoutMs) {
      const connection = await openOriginConnection(originUrl, header, timeoutMs);
      try {
        // A PROXY listener reads the header before anything else: send it, so the origin
        // sees a well-formed connection that simply ends, not a malformed one.
        if (header.byteLength > 0) await connection.write(new Uint8Array(0));
      } finally {
        connection.close();
      }
    },
  };
}
