/**
 * The client side of the RFC 6455 §4 opening handshake: the key we send and the checks on
 * the server's 101 answer. A 101 that fails a check is not a WebSocket we can trust to
 * frame correctly (a misconfigured proxy, a server that answered someone else's request):
 * the relay treats it as an unreachable origin rather than relaying garbage.
 */
import type { ResponseHead } from "./http1-response-parser.ts";

/** §1.3: the GUID every server appends to the key before hashing. */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Request headers the handshake owns; a client's copies are replaced, not forwarded. */
export const HANDSHAKE_REQUEST_HEADERS = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "upgrade", "connection"];

export function newHandshakeKey(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(16)));
}

export async function acceptFor(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + WEBSOCKET_GUID));
  return toBase64(new Uint8Array(digest));
}

/** Sets the handshake headers on a copy of `headers` (the client's, minus the ones we own). */
export function handshakeHeaders(headers: Headers, key: string): Headers {
  const out = new Headers(headers);
  for (const name of HANDSHAKE_REQUEST_HEADERS) out.delete(name);
  out.set("upgrade", "websocket");
  out.set("connection", "Upgrade");
  out.set("sec-websocket-key", key);
  out.set("sec-websocket-version", "13");
  return out;
}

/** Undefined when the 101 is a valid answer to our handshake; otherwise why it is not. */
export async function handshakeProblem(head: ResponseHead, key: string, offeredProtocols: string | null): Promise<string | undefined> {
  const values = (name: string): string[] => head.headers.filter(([n]) => n === name).map(([, v]) => v);
  const tokens = (name: string): string[] => values(name).join(",").split(",").map((t) => t.trim().toLowerCase());
  if (!tokens("upgrade").includes("websocket")) return "101 without Upgrade: websocket";
  if (!tokens("connection").includes("upgrade")) return "101 without Connection: Upgrade";
  const accept = values("sec-websocket-accept");
  if (accept.length !== 1 || accept[0] !== (await acceptFor(key))) return "101 with a wrong Sec-WebSocket-Accept";
  // We offered no extension (a frame with RSV bits would be unreadable): none may be chosen.
  if (values("sec-websocket-extensions").some((v) => v.trim() !== "")) return "101 chose an extension that was not offered";
  const chosen = values("sec-websocket-protocol");
  if (chosen.length > 0) {
    const offered = (offeredProtocols ?? "").split(",").map((p) => p.trim());
    if (chosen.length !== 1 || !offered.includes((chosen[0] ?? "").trim())) return "101 chose a subprotocol that was not offered";
  }
  return undefined;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
