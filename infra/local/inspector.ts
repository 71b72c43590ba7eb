/**
 * workerd's DevTools inspector, for CPU profiles and heap figures (startEdge's
 * inspectorPort): the profiling tools (tools/profile/) and the chaos suite's memory check.
 */
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

/**
 * The edge isolate's JavaScript heap in use after a full garbage collection, in MiB: what
 * the Worker and its session objects hold, apart from what the runtime keeps natively (its
 * allocator keeps freed memory, so RSS says little about what the code retains).
 * Undefined if the inspector does not answer within `timeoutMs`.
 */
export async function isolateHeapMiB(port: number, timeoutMs = 10_000): Promise<number | undefined> {
  let inspector: Inspector | undefined;
  let over = false;
  const measured = (async () => {
    const connected = await connectInspector(port);
    // Connected only after the timeout: close at once, so no socket outlives the call.
    if (over) {
      connected.close();
      return undefined;
    }
    inspector = connected;
    await inspector.call("HeapProfiler.enable");
    await inspector.call("HeapProfiler.collectGarbage");
    const usage = (await inspector.call("Runtime.getHeapUsage")) as { usedSize?: number } | undefined;
    return usage?.usedSize === undefined ? undefined : usage.usedSize / 2 ** 20;
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([measured.catch(() => undefined), timeout]);
  } finally {
    over = true;
    clearTimeout(timer);
    inspector?.close();
  }
}
