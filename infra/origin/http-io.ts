// Small HTTP helpers shared by the route handlers: one error type, JSON in and out, and a
// raw writer for answering an Upgrade request that we will not upgrade (by then Node has
// handed us the bare socket, not a ServerResponse).

import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/** An expected failure with a stable code; the dispatcher turns it into JSON. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  body(): { error: string; message: string } {
    return { error: this.code, message: this.message };
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(text)),
    "Cache-Control": "no-store",
  });
  res.end(text);
}

/** Default cap for control command bodies: they are commands, not uploads. */
export const MAX_JSON_BODY = 64 * 1024;

/**
 * Reads a JSON body, rejecting with HttpError 400 bad_json / 413 payload_too_large.
 * An empty body parses as undefined so callers can give a precise message.
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<unknown> {
  const text = await readTextBody(req, limit);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new HttpError(400, "bad_json", `request body is not valid JSON: ${detail}`);
  }
}

/** Reads a whole body as UTF-8 text, rejecting with HttpError 413 past `limit` bytes. */
export async function readTextBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) {
      throw new HttpError(413, "payload_too_large", `request body exceeds ${limit} bytes`, { Connection: "close" });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Drains and discards a body we do not need, so the connection can be reused. */
export function discardBody(req: IncomingMessage): void {
  req.resume();
}

/** Writes a complete HTTP/1.1 response on a raw socket and closes it. */
export function writeRawResponse(
  socket: Duplex,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}`,
    ...Object.entries({
      ...headers,
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(text)),
      Connection: "close",
    }).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${text}`);
}
