/**
 * The local stack's demo site: a page with the real Lightstreamer web client
 * (lightstreamer-client-web) that connects to the edge and shows the clock item and the
 * origin serving it. It is served apart from the edge on purpose — a page and its push
 * server rarely share a host — so the client reaches the edge over WebSocket.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { REPO_ROOT } from "./edge.ts";

const FILES: Record<string, { path: string; type: string }> = {
  "/lightstreamer.html": { path: join(REPO_ROOT, "infra", "local", "demo", "lightstreamer.html"), type: "text/html; charset=utf-8" },
  "/lib/lightstreamer.min.js": {
    path: join(REPO_ROOT, "node_modules", "lightstreamer-client-web", "lightstreamer.min.js"),
    type: "text/javascript; charset=utf-8",
  },
};

export interface DemoSite {
  readonly url: string;
  /** The demo page, pointed at `edgeUrl`. */
  page(edgeUrl: string): string;
  close(): Promise<void>;
}

export async function startDemoSite(host: string, port: number): Promise<DemoSite> {
  const server: Server = createServer((req, res) => {
    const file = FILES[new URL(req.url ?? "/", "http://demo").pathname];
    if (file === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    readFile(file.path).then(
      (body) => res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(body),
      (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  const url = `http://${host}:${bound}`;
  return {
    url,
    page: (edgeUrl) => `${url}/lightstreamer.html?edge=${encodeURIComponent(edgeUrl)}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
