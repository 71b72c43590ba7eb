// The HTTP layer shared by all listeners. It never listens itself: proxy listeners hand it
// sockets whose PROXY question is settled. Here a request is matched to a route, checked
// against the listener kind and method, and dispatched; every answer, including errors
// and refused upgrades, carries X-Origin-Id.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { handleControl, handleCreateSession, handleSessionInfo, handleStream } from "./generic-protocol.ts";
import { handleAdminState, handleDebugRequests, handleHealth } from "./health.ts";
import { HttpError, sendJson, writeRawResponse } from "./http-io.ts";
import { createRequestContext, type RequestContext } from "./request-context.ts";
import type { OriginRuntime } from "./runtime.ts";
import { handleTlcpHttp } from "./tlcp/http-transport.ts";
import { createTlcpWebSocketGateway } from "./tlcp/ws-transport.ts";
import { createWebSocketGateway } from "./websocket.ts";

export function createHttpServer(runtime: OriginRuntime): Server {
  const websockets = createWebSocketGateway();
  const tlcpWebsockets = createTlcpWebSocketGateway();
  const server = createServer({ noDelay: true });
  const baseHeaders = { "X-Origin-Id": runtime.id };

  server.on("request", function handleRequest(req: IncomingMessage, res: ServerResponse) {
    const ctx = createRequestContext(runtime, req);
    if (ctx === undefined) {
      sendJson(res, 500, { error: "internal_error", message: "connection has no listener" }, baseHeaders);
      return;
    }
    dispatch(ctx, req, res).catch((error: unknown) => answerError(ctx, res, error));
  });

  server.on("upgrade", function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on("error", () => socket.destroy());
    const ctx = createRequestContext(runtime, req);
    if (ctx === undefined) {
      writeRawResponse(socket, 500, { error: "internal_error", message: "connection has no listener" }, baseHeaders);
      return;
    }
    void (async () => {
      const name = checkRoute(ctx, true);
      ctx.edgeSessionKey = await runtime.edgeTokenCheck?.(name, ctx.method, req.headers);
      (name === "tlcp-ws" ? tlcpWebsockets : websockets).handleUpgrade(ctx, req, socket, head);
    })().catch((error: unknown) => {
      const failure = toHttpError(error);
      writeRawResponse(socket, failure.status, failure.body(), { ...failure.headers, ...ctx.baseHeaders });
      ctx.log(failure.status);
    });
  });

  // Unparseable requests: answer in our own words (with X-Origin-Id) instead of Node's
  // bare 400, and never let one bad client raise an error on the server.
  server.on("clientError", function handleClientError(error: NodeJS.ErrnoException, socket: Duplex) {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    writeRawResponse(socket, status, { error: "bad_request", message: "malformed HTTP request" }, baseHeaders);
  });

  return server;
}

async function dispatch(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = checkRoute(ctx, false);
  ctx.edgeSessionKey = await ctx.runtime.edgeTokenCheck?.(route, ctx.method, req.headers);
  switch (route) {
    case "health":
      return handleHealth(ctx, res);
    case "admin-state":
      return handleAdminState(ctx, req, res);
    case "debug-requests":
      return handleDebugRequests(ctx, res);
    case "session-create":
      return handleCreateSession(ctx, req, res);
    case "session-info":
      return handleSessionInfo(ctx, res);
    case "session-stream":
      return handleStream(ctx, res);
    case "session-control":
      return handleControl(ctx, req, res);
    case "tlcp-create":
      return handleTlcpHttp(ctx, req, res, "create_session");
    case "tlcp-bind":
      return handleTlcpHttp(ctx, req, res, "bind_session");
    case "tlcp-control":
      return handleTlcpHttp(ctx, req, res, "control");
    case "tlcp-msg":
      return handleTlcpHttp(ctx, req, res, "msg");
    case "tlcp-heartbeat":
      return handleTlcpHttp(ctx, req, res, "heartbeat");
    case "ws-create":
    case "session-ws":
    case "tlcp-ws":
      throw new HttpError(426, "upgrade_required", `${ctx.path} is a WebSocket endpoint`, {
        Upgrade: "websocket",
        Connection: "Upgrade",
      });
  }
}

/** Path → route, then listener kind, then method; returns the route name or throws. */
function checkRoute(ctx: RequestContext, upgrade: boolean): NonNullable<RequestContext["route"]>["name"] {
  const route = ctx.route;
  if (route === undefined) throw new HttpError(404, "not_found", `no endpoint at ${ctx.path}`);
  if (!route.kinds.includes(ctx.listener.kind)) {
    throw new HttpError(
      404,
      "wrong_listener",
      `${ctx.path} is not served on a ${ctx.listener.kind} listener (try a ${route.kinds.join(" or ")} listener)`,
    );
  }
  if (upgrade && !route.websocket) {
    throw new HttpError(400, "upgrade_not_supported", `${ctx.path} does not accept an Upgrade`);
  }
  if (!route.methods.includes(ctx.method)) {
    throw new HttpError(405, "method_not_allowed", `${ctx.method} is not allowed on ${ctx.path}`, {
      Allow: route.methods.join(", "),
    });
  }
  return route.name;
}

function answerError(ctx: RequestContext, res: ServerResponse, error: unknown): void {
  const failure = toHttpError(error);
  if (res.headersSent) {
    // Too late for a status: the stream is broken, say so by cutting it.
    res.destroy();
  } else {
    sendJson(res, failure.status, failure.body(), { ...failure.headers, ...ctx.baseHeaders });
  }
  ctx.log(failure.status);
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  console.error("origin: unexpected error while handling a request:", error);
  return new HttpError(500, "internal_error", "unexpected error");
}
