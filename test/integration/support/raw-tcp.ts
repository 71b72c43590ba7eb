// Raw TCP exchanges with a server, for bytes no HTTP client would send (PROXY headers,
// garbage, split segments).

import { connect } from "node:net";
import { sleep, WAIT_MS, withTimeout } from "./wait.ts";


export type RawExchange = {
  /** Everything the server sent before closing (or before the wait ran out). */
  response: string;
  /** True when the server closed the connection. */
  closed: boolean;
};

/**
 * Connects, writes `chunks` one by one (pausing `gapMs` between them, so they arrive as
 * separate TCP segments), then collects bytes until the server closes the connection.
 * Requests should say `Connection: close` so a served request also ends in a close.
 */
export async function rawExchange(
  port: number,
  chunks: ReadonlyArray<string | Uint8Array>,
  options: { gapMs?: number; host?: string; waitMs?: number } = {},
): Promise<RawExchange> {
  const socket = connect({ port, host: options.host ?? "127.0.0.1", noDelay: true });
  const received: Buffer[] = [];
  let closed = false;
  const done = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", () => {}); // a reset is one way of being closed
    socket.on("close", () => {
      closed = true;
      resolve();
    });
  });
  await withTimeout(new Promise<void>((resolve) => socket.once("connect", () => resolve())), WAIT_MS, "connect");
  for (const [index, chunk] of chunks.entries()) {
    if (index > 0 && (options.gapMs ?? 0) > 0) await sleep(options.gapMs ?? 0);
    if (socket.destroyed) break;
    socket.write(chunk);
  }
  await withTimeout(done, options.waitMs ?? WAIT_MS, "the server to close the connection").catch(() => {});
  socket.destroy();
  return { response: Buffer.concat(received).toString("latin1"), closed };
}

/** The JSON body of a raw HTTP/1.1 response with Content-Length. */
export function rawJsonBody(response: string): unknown {
  const split = response.indexOf("\r\n\r\n");
  if (split === -1) throw new Error(`no HTTP response in ${JSON.stringify(response.slice(0, 200))}`);
  return JSON.parse(response.slice(split + 4)) as unknown;
}

export function rawStatus(response: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(response);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function healthRequest(extraHeaders = ""): string {
  return `GET /health HTTP/1.1\r\nHost: origin.test\r\n${extraHeaders}Connection: close\r\n\r\n`;
}
