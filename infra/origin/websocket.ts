// The generic protocol over WebSocket:
//   GET /ws               S  → new session, then its feed
//   GET /session/:id/ws   CR → attach to an existing session's feed
// On open the server sends {"type":"hello",...}; then tick/emit events as JSON text
// frames; every client message is echoed verbatim (text as text, binary as binary).
// Protocol pings keep idle intermediaries from timing the connection out and detect
// peers that vanished without a close.

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { edgeBinding, requireSession } from "./generic-protocol.ts";
import { assertCanCreateSession } from "./health.ts";
import { HttpError, writeRawResponse } from "./http-io.ts";
import type { RequestContext } from "./request-context.ts";
import type { Session } from "./sessions.ts";
import { feedQuery, openFeed, type FeedEndReason } from "./stream-feed.ts";

/** Largest message a client may send (echoed back, so it is also held once in memory). */
const MAX_PAYLOAD = 1024 * 1024;
/** Above this much unsent data ticks are skipped and reading from the client pauses. */
const SOFT_LIMIT = 64 * 1024;
/** Above this the peer is not reading at all; drop it instead of growing memory. */
const HARD_LIMIT = 4 * 1024 * 1024;
/** RFC 6455 §4.1: a 16-byte nonce, base64. Same check ws makes, done first so the error
 * response is ours (JSON, X-Origin-Id) rather than ws's plain-text one. */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

export type WebSocketGateway = {
  handleUpgrade(ctx: RequestContext, req: IncomingMessage, socket: Duplex, head: Buffer): void;
};

type PendingUpgrade = { ctx: RequestContext; session: Session };

export function createWebSocketGateway(): WebSocketGateway {
  const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD, clientTracking: false });
  const pending = new WeakMap<IncomingMessage, PendingUpgrade>();

  // The 101 response is written by ws; this is our one chance to add headers to it.
  server.on("headers", function addOriginHeaders(headers, req) {
    const upgrade = pending.get(req);
    if (upgrade === undefined) return;
    for (const [name, value] of Object.entries(upgrade.ctx.baseHeaders)) headers.push(`${name}: ${value}`);
    headers.push(`X-Session-Id: ${upgrade.session.id}`);
    upgrade.ctx.log(101, { session: upgrade.session.id, websocket: true });
  });
  // Handshake problems we did not pre-check (e.g. a malformed Sec-WebSocket-Protocol).
  server.on("wsClientError", function rejectHandshake(error, socket, req) {
    const ctx = pending.get(req)?.ctx;
    writeRawResponse(socket, 400, { error: "bad_websocket_handshake", message: error.message }, ctx?.baseHeaders);
    ctx?.log(400);
  });

  return {
    handleUpgrade(ctx, req, socket, head) {
      assertHandshake(req);
      const query = feedQuery(ctx.query, ctx.runtime.options.intervalMs);
      if (!query.ok) throw new HttpError(400, "bad_query", query.message);
      let session: Session;
      if (ctx.route?.name === "ws-create") {
        assertCanCreateSession(ctx.runtime);
        session = ctx.runtime.sessions.create(ctx.client.client, edgeBinding(ctx));
      } else {
        session = requireSession(ctx);
      }
      pending.set(req, { ctx, session });
      server.handleUpgrade(req, socket, head, function onOpen(ws) {
        serveSession(ctx, session, ws, query.intervalMs, query.count);
      });
    },
  };
}

/**
 * Protocol pings every `intervalMs`, so idle intermediaries keep the connection; a peer
 * that answers no ping for a whole period is gone and is dropped. Returns the timer, to
 * clear on close.
 */
export function keepAlive(ws: WebSocket, intervalMs: number): ReturnType<typeof setInterval> {
  let alive = true;
  ws.on("pong", () => {
    alive = true;
  });
  return setInterval(function ping() {
    if (!alive) {
      ws.terminate(); // no pong for a whole period: the peer or the path is gone
      return;
    }
    alive = false;
    ws.ping();
  }, intervalMs);
}

export function assertHandshake(req: IncomingMessage): void {
  if (req.method !== "GET") {
    throw new HttpError(405, "method_not_allowed", "WebSocket upgrades must use GET", { Allow: "GET" });
  }
  if (req.headers.upgrade?.toLowerCase() !== "websocket") {
    throw new HttpError(400, "bad_websocket_handshake", "Upgrade header must be websocket");
  }
  if (!KEY_PATTERN.test(req.headers["sec-websocket-key"] ?? "")) {
    throw new HttpError(400, "bad_websocket_handshake", "missing or invalid Sec-WebSocket-Key");
  }
  const version = req.headers["sec-websocket-version"];
  if (version !== "13" && version !== "8") {
    throw new HttpError(400, "bad_websocket_handshake", "Sec-WebSocket-Version must be 13", {
      "Sec-WebSocket-Version": "13, 8",
    });
  }
}

function serveSession(
  ctx: RequestContext,
  session: Session,
  ws: WebSocket,
  intervalMs: number,
  count: number | undefined,
): void {
  const { runtime } = ctx;
  ws.on("error", () => {
    // Protocol violations and resets: ws closes the socket itself and 'close' follows.
  });
  ws.send(JSON.stringify({ type: "hello", origin: runtime.id, session: session.id, client: ctx.client.client }));

  const feed = openFeed(
    runtime.sessions,
    session,
    { origin: runtime.id, client: ctx.client.client, intervalMs, count },
    {
      ready: () => ws.readyState === WebSocket.OPEN && ws.bufferedAmount < SOFT_LIMIT,
      write: (event) => send(JSON.stringify(event), false),
      end: (reason) => closeFor(ws, reason),
    },
  );

  // Echo with back-pressure: while our outgoing queue is long, stop reading from the
  // client, so a fast sender is slowed down instead of filling our memory.
  function send(data: string | Buffer, binary: boolean): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(data, { binary }, function sent() {
      if (ws.isPaused && ws.bufferedAmount < SOFT_LIMIT) ws.resume();
    });
    if (ws.bufferedAmount > HARD_LIMIT) ws.terminate();
    else if (ws.bufferedAmount >= SOFT_LIMIT && !ws.isPaused) ws.pause();
  }

  ws.on("message", function echo(data: RawData, isBinary: boolean) {
    send(toBuffer(data), isBinary);
  });

  const pinger = keepAlive(ws, runtime.options.pingIntervalMs);

  ws.on("close", () => {
    clearInterval(pinger);
    feed.stop();
  });
}

function closeFor(ws: WebSocket, reason: FeedEndReason): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  switch (reason) {
    case "shutdown":
      ws.close(1001, "origin shutting down");
      return;
    case "count":
      ws.close(1000, "count reached");
      return;
    case "closed":
    case "expired":
      ws.close(1000, `session ${reason}`);
      return;
  }
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}
