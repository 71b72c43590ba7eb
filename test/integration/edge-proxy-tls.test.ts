/**
 * An `https:` tcp origin: the edge writes the PROXY header in clear, then starts TLS on
 * the same connection (`starttls`) and checks the origin's certificate — the order HAProxy
 * (`send-proxy` + `ssl`) and Lightstreamer's https_server expect. The origin here reads
 * the header, then wraps the socket in TLS with a certificate from a test-only CA that the
 * local workerd is told to trust (NODE_EXTRA_CA_CERTS, read by Miniflare when it loads).
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { TLSSocket, createSecureContext } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProxyHeader } from "../../infra/origin/proxy-protocol.ts";

const FIXTURES = join(import.meta.dirname, "fixtures", "tls");
// Before Miniflare is loaded (below, dynamically): it reads the variable once, at load.
process.env.NODE_EXTRA_CA_CERTS = join(FIXTURES, "ca.pem");
const { testStack } = await import("./support/stack.ts");

interface Seen {
  /** Source address of each PROXY header (null: the edge's LOCAL health checks). */
  readonly sources: Array<string | null>;
  /** Paths of the requests that arrived over TLS. */
  readonly paths: string[];
}

function startTlsOrigin(seen: Seen): Promise<Server> {
  const secureContext = createSecureContext({ key: readFileSync(join(FIXTURES, "server.key")), cert: readFileSync(join(FIXTURES, "server.pem")) });
  const http = createHttpServer((req, res) => {
    seen.paths.push(req.url ?? "");
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"state":"active","sessions":0,"capacity":10}');
      return;
    }
    res.writeHead(201, { "content-type": "application/json", "x-session-id": "tls-1" }).end(JSON.stringify({ secure: true }));
  });
  const server = createServer((socket) => {
    socket.on("error", () => {});
    let buffered = Buffer.alloc(0);
    // Paused-mode reads: the TLS layer must take over a socket that has not started flowing.
    socket.on("readable", function onReadable() {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) buffered = Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered);
      if (parsed.status === "incomplete") return;
      socket.removeListener("readable", onReadable);
      if (parsed.status !== "complete") {
        socket.destroy();
        return;
      }
      seen.sources.push(parsed.header.source?.address ?? null);
      const rest = buffered.subarray(parsed.header.length);
      if (rest.length > 0) socket.unshift(rest);
      const tls = new TLSSocket(socket, { isServer: true, secureContext });
      tls.on("error", () => {});
      http.emit("connection", tls);
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("tcp transport to an https origin", () => {
  const seen: Seen = { sources: [], paths: [] };
  let server: Server;
  let stack: Awaited<ReturnType<typeof testStack>>;

  beforeAll(async () => {
    server = await startTlsOrigin(seen);
    const { port } = server.address() as AddressInfo;
    stack = await testStack({ origins: [{ id: "tls", url: `https://localhost:${port}`, transport: "tcp", proxy: { version: 2 } }] });
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("sends the PROXY header in clear, then speaks HTTP over TLS with a verified certificate", async () => {
    const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ secure: true });
    // The request itself came over TLS, after a header naming the client (the health checks name none).
    expect(seen.paths).toContain("/session");
    expect(seen.sources.filter((s) => s !== null)).toEqual(["127.0.0.1"]);
  });
});
