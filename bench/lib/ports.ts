/** Free loopback ports for processes the bench starts that cannot take port 0 (HAProxy, nginx). */
import { createServer } from "node:net";

/** Asks the kernel for a free port on 127.0.0.1 and releases it (a tiny race, bounded by use right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}
