/**
 * A small reverse proxy for tests. With several origins it is the classic mistake, for
 * comparison: each request (and each WebSocket upgrade) goes to the next origin in turn,
 * with no stickiness at all. With one origin and `rewriteBody` it is a meddler in front of
 * the edge, to show what the edge does with a tampered request.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

export interface RoundRobinProxy {
  readonly url: string;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Rewrites a request body (then buffered) before it goes on; return it unchanged to pass. */
  readonly rewriteBody?: (path: string, body: Buffer) => Buffer;
}

export async function startRoundRobinProxy(origins: readonly string[], options: ProxyOptions = {}): Promise<RoundRobinProxy> {
  let next = 0;
  const pick = (): URL => new URL(origins[next++ % origins.length] ?? "");
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    const target = pick();
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    const rewrite = options.rewriteBody;
    if (rewrite === undefined) {
      req.pipe(upstream);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = rewrite(req.url ?? "/", Buffer.concat(chunks));
      upstream.removeHeader("transfer-encoding");
      upstream.setHeader("content-length", body.length);
      upstream.end(body);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = pick();
    const upstream = connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method ?? "GET"} ${req.url ?? "/"} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.once("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
