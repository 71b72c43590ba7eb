// A PROXY-terminating L4 front for a server that knows nothing of PROXY (a stock Socket.IO
// server): like HAProxy with `accept-proxy`, it requires a PROXY header on every connection,
// records the client it names, and pipes the rest to the server. With it, "the origin" is
// PROXY-only and can tell which client each connection was for.

import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { parseProxyHeader } from "../../../infra/origin/proxy-protocol.ts";

export interface ProxyFront {
  readonly url: string;
  /** Source addresses of the PROXY headers received (null: LOCAL/UNKNOWN, a health check). */
  readonly sources: Array<string | null>;
  /** Connections cut for arriving without a valid PROXY header. */
  readonly refused: number;
  close(): Promise<void>;
}

export async function startProxyFront(backendUrl: string): Promise<ProxyFront> {
  const backend = new URL(backendUrl);
  const sources: Array<string | null> = [];
  const sockets = new Set<Socket>();
  let refused = 0;
  const server: Server = createServer({ noDelay: true }, (client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered);
      if (parsed.status === "incomplete") return;
      client.removeListener("data", onData);
      if (parsed.status !== "complete") {
        refused += 1;
        client.destroy();
        return;
      }
      sources.push(parsed.header.source?.address ?? null);
      const upstream = connect({ host: backend.hostname, port: Number(backend.port), noDelay: true });
      sockets.add(upstream);
      upstream.on("close", () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.write(buffered.subarray(parsed.header.length));
      client.pipe(upstream);
      upstream.pipe(client);
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sources,
    get refused() {
      return refused;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
