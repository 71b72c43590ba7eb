/** workerd's DevTools inspector, for CPU profiles and heap figures (startEdge's inspectorPort). */
import { createServer } from "node:net";
import { WebSocket } from "ws";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface Inspector {
  call(method: string, params?: object): Promise<unknown>;
  close(): void;
}

/** The edge Worker's isolate (session objects included) through Miniflare's inspector proxy. */
export async function connectInspector(port: number): Promise<Inspector> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/core:user:push-edge`);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  });
  return {
    call(method, params = {}) {
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => ws.close(),
  };
}
