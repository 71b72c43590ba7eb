// TLCP over WebSocket: GET /lightstreamer, subprotocol TLCP-2.x.y.lightstreamer.com
// (echoed). Each text message is a request name line, then its request lines:
//
//   wsok                         → WSOK (clients send it first, as its own message)
//   create_session\r\n<params>   S: CONOK... then the session streams (or polls) here
//   bind_session\r\n<params>     CR: LS_session in the params (absent: this socket's
//                                session, as WS-POLLING clients send their later polls)
//   control|msg\r\n<lines>       answers in one message, then what they caused
//   heartbeat\r\n\r\n            no answer unless it names an LS_reqId
//
// Control, msg and heartbeat requests act on the session bound to this WebSocket, or,
// on a WebSocket bound to none, on the session their first line's LS_session names.
// Whether the socket is S or CR is only known from its first session request, so the
// request log entry (101) is written then, naming the session.

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { assertCanCreateSession } from "../health.ts";
import { HttpError, writeRawResponse } from "../http-io.ts";
import type { RequestContext } from "../request-context.ts";
import { assertHandshake, keepAlive } from "../websocket.ts";
import { openBinding, type Wire } from "./binding.ts";
import { executeRequest, type Answer } from "./control.ts";
import { error, LINE_END } from "./encoding.ts";
import { parseRequestLine, splitRequestLines } from "./request-params.ts";
import type { TlcpSession } from "./session.ts";
import { bindSession, createSession, type SessionRequestContext } from "./session-requests.ts";

const SUBPROTOCOL = /^TLCP-2\.\d+\.\d+\.lightstreamer\.com$/;
/** Requests are at most a batch under the request limit; leave room for a hand-made one. */
const MAX_PAYLOAD = 1024 * 1024;
const SOFT_LIMIT = 64 * 1024;
const SYNTAX = 65;

export type TlcpWebSocketGateway = {
  handleUpgrade(ctx: RequestContext, req: IncomingMessage, socket: Duplex, head: Buffer): void;
};

export function createTlcpWebSocketGateway(): TlcpWebSocketGateway {
  const pending = new WeakMap<IncomingMessage, { ctx: RequestContext; protocol: string | undefined }>();
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_PAYLOAD,
    clientTracking: false,
    handleProtocols: (_offered, req) => pending.get(req)?.protocol ?? false,
  });
  server.on("headers", function addOriginHeaders(headers, req) {
    const upgrade = pending.get(req);
    if (upgrade === undefined) return;
    for (const [name, value] of Object.entries(upgrade.ctx.baseHeaders)) headers.push(`${name}: ${value}`);
  });
  server.on("wsClientError", function rejectHandshake(failure, socket, req) {
    const ctx = pending.get(req)?.ctx;
    writeRawResponse(socket, 400, { error: "bad_websocket_handshake", message: failure.message }, ctx?.baseHeaders);
    ctx?.log(400);
  });

  return {
    handleUpgrade(ctx, req, socket, head) {
      assertHandshake(req);
      const protocol = chooseSubprotocol(req.headers["sec-websocket-protocol"]);
      // A create listener only ever sees new sessions: refuse before upgrading.
      if (ctx.listener.kind === "create") assertCanCreateSession(ctx.runtime);
      pending.set(req, { ctx, protocol });
      server.handleUpgrade(req, socket, head, function onOpen(ws) {
        serveConnection(ctx, ws);
      });
    },
  };
}

/** The TLCP subprotocol the client offered, or undefined if it offered none at all. */
function chooseSubprotocol(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const offered = header.split(",").map((item) => item.trim());
  const chosen = offered.find((item) => SUBPROTOCOL.test(item));
  if (chosen === undefined) {
    throw new HttpError(400, "bad_websocket_handshake", "Sec-WebSocket-Protocol must offer TLCP-2.x.y.lightstreamer.com");
  }
  return chosen;
}

type WsWire = Wire & { drained(): void; closed(): void };

function serveConnection(ctx: RequestContext, ws: WebSocket): void {
  const { runtime } = ctx;
  const service = runtime.tlcp;
  let bound: TlcpSession | undefined;
  let wire: WsWire | undefined;
  const sessionCtx: SessionRequestContext = {
    service,
    originId: runtime.id,
    client: ctx.client.client,
    listener: ctx.listener.kind,
    transport: "ws",
    canCreate: () => assertCanCreateSession(runtime),
  };

  const send = (text: string): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(text, function sent() {
      if (ws.bufferedAmount < SOFT_LIMIT) wire?.drained();
    });
  };
  const sendLines = (lines: readonly string[]): void => {
    if (lines.length > 0) send(lines.map((line) => `${line}${LINE_END}`).join(""));
  };

  const openSession = (name: "create_session" | "bind_session", line: string): void => {
    const request = parseRequestLine(line);
    // WS-POLLING clients bind again without LS_session: they mean this socket's session.
    const current = bound !== undefined && !bound.ended ? { querySession: bound.id } : {};
    const opened =
      name === "create_session" ? createSession(sessionCtx, request) : bindSession({ ...sessionCtx, ...current }, request);
    if (!opened.ok) {
      ctx.log(101, { websocket: true, ...(opened.session === undefined ? {} : { session: opened.session }) });
      sendLines([opened.line]);
      return;
    }
    ctx.log(101, { websocket: true, session: opened.session.id });
    bound = opened.session;
    wire?.closed(); // a previous binding on this socket (polling) is over
    wire = wsWire(ws, send, () => {
      wire = undefined;
    });
    openBinding(opened.session, wire, opened.plan, opened.preamble);
  };

  const execute = (name: "control" | "msg" | "heartbeat", lines: string[]): void => {
    const requests = name === "heartbeat" && lines.length === 0 ? [""] : lines;
    const named = parseRequestLine(requests[0] ?? "").params.get("LS_session");
    const session = bound !== undefined && !bound.ended ? bound : named === undefined ? undefined : service.get(named);
    const answers: Answer[] = [];
    const run = (): void => {
      for (const line of requests) answers.push(executeRequest(name, session, parseRequestLine(line), service, "ws"));
      sendLines(answers.flatMap((answer) => (answer.line === undefined ? [] : [answer.line])));
    };
    if (session === undefined) run();
    else session.holdWhile(run);
    session?.flush();
    for (const answer of answers) answer.after?.();
    if (answers.some((answer) => answer.closeSocket === true) && ws.readyState === WebSocket.OPEN) {
      ws.close(1000, "session destroyed");
    }
  };

  ws.on("error", () => {
    // Protocol violations and resets: ws closes the socket itself and 'close' follows.
  });
  ws.on("message", function onRequest(data: RawData, isBinary: boolean) {
    if (isBinary) {
      sendLines([error(SYNTAX, "TLCP requests are text messages")]);
      return;
    }
    const [name = "", ...lines] = splitRequestLines(toText(data));
    switch (name) {
      case "wsok":
        sendLines(["WSOK"]);
        return;
      case "create_session":
      case "bind_session":
        openSession(name, lines[0] ?? "");
        return;
      case "control":
      case "msg":
      case "heartbeat":
        execute(name, lines);
        return;
      default:
        sendLines([error(SYNTAX, `unknown request ${JSON.stringify(name.slice(0, 64))}`)]);
    }
  });

  const pinger = keepAlive(ws, runtime.options.pingIntervalMs);

  ws.on("close", () => {
    clearInterval(pinger);
    wire?.closed();
    // A socket that never named a session is still a request that reached this origin.
    ctx.log(101, { websocket: true });
  });
}

function wsWire(ws: WebSocket, send: (text: string) => void, onFinish: () => void): WsWire {
  let drain: (() => void) | undefined;
  let close: (() => void) | undefined;
  let over = false;
  const stop = (): void => {
    if (over) return;
    over = true;
    onFinish();
  };
  return {
    write: (text) => {
      if (!over) send(text);
    },
    backlog: () => ws.bufferedAmount,
    onDrain: (callback) => {
      drain = callback;
    },
    onClose: (callback) => {
      close = callback;
    },
    finish(closeSocket) {
      stop();
      if (closeSocket && ws.readyState === WebSocket.OPEN) ws.close(1000, "session ended");
    },
    drained: () => {
      if (!over) drain?.();
    },
    closed: () => {
      if (over) return;
      stop();
      close?.();
    },
  };
}

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString("utf8");
}
