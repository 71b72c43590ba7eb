// TLCP over HTTP: POST /lightstreamer/<request>.txt?LS_protocol=TLCP-2.x.y with a
// text/plain body of request lines (clients may label it form-encoded; it is read as
// raw text either way).
//
//   create_session.txt  S   body: one line of parameters → a stream or a poll
//   bind_session.txt    CR  body: LS_session=... → a stream or a poll
//   control.txt         CR  LS_session in the QUERY string; body: one request per line
//   msg.txt             CR  same, messages
//   heartbeat.txt       CR  same; the body may be just CRLF
//
// TLCP refusals are answered 200 with a CONERR/REQERR/ERROR body, as clients expect; only
// a create the origin cannot take (blocked, full) is a 503, so the edge can place it
// elsewhere. Every answer is text/plain and carries X-Origin-Id.

import type { IncomingMessage, ServerResponse } from "node:http";
import { assertCanCreateSession } from "../health.ts";
import { readTextBody } from "../http-io.ts";
import type { RequestContext } from "../request-context.ts";
import { openBinding, type Wire } from "./binding.ts";
import { executeRequest, type Answer, type SessionRequestKind } from "./control.ts";
import { conerr, error, LINE_END } from "./encoding.ts";
import { parseRequestLine, splitRequestLines, type RequestLine } from "./request-params.ts";
import { REQUEST_LIMIT } from "./service.ts";
import { bindSession, createSession, type SessionRequestContext } from "./session-requests.ts";

export type TlcpHttpRequest = "create_session" | "bind_session" | SessionRequestKind;

/** Bodies past the announced request limit are still read, up to this much. */
const MAX_BODY = 16 * REQUEST_LIMIT;
const SYNTAX = 65;

export async function handleTlcpHttp(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  request: TlcpHttpRequest,
): Promise<void> {
  if (ctx.method === "OPTIONS") {
    answerPreflight(ctx, req, res);
    return;
  }
  const body = await readTextBody(req, MAX_BODY);
  const querySession = ctx.query.get("LS_session") ?? undefined;
  const protocol = ctx.query.get("LS_protocol");
  if (protocol !== null && !/^TLCP-2\.\d+\.\d+$/.test(protocol)) {
    const message = `unsupported protocol ${protocol} (this origin speaks TLCP-2.x)`;
    const line = request === "create_session" || request === "bind_session" ? conerr(SYNTAX, message) : error(SYNTAX, message);
    answer(ctx, req, res, 200, [line], querySession);
    return;
  }
  const lines = splitRequestLines(body);
  if (request === "create_session" || request === "bind_session") {
    openOverHttp(ctx, req, res, request, parseRequestLine(lines[0] ?? ""), querySession);
    return;
  }

  const service = ctx.runtime.tlcp;
  const firstSession = querySession ?? parseRequestLine(lines[0] ?? "").params.get("LS_session");
  const session = firstSession === undefined ? undefined : service.get(firstSession);
  // A heartbeat may come with no parameters at all: it is still one request.
  const requests = request === "heartbeat" && lines.length === 0 ? [""] : lines;
  const answers: Answer[] = [];
  const run = (): void => {
    for (const line of requests) answers.push(executeRequest(request, session, parseRequestLine(line), service, "http"));
  };
  // Notifications the batch causes (SUBOK...) go to the session's stream after it ran.
  if (session === undefined) run();
  else session.holdWhile(run);
  answer(
    ctx,
    req,
    res,
    200,
    answers.flatMap((item) => (item.line === undefined ? [] : [item.line])),
    firstSession,
  );
  session?.flush();
  for (const item of answers) item.after?.();
}

function openOverHttp(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  request: "create_session" | "bind_session",
  line: RequestLine,
  querySession: string | undefined,
): void {
  const sessionCtx: SessionRequestContext = {
    service: ctx.runtime.tlcp,
    originId: ctx.runtime.id,
    client: ctx.client.client,
    listener: ctx.listener.kind,
    transport: "http",
    ...(querySession === undefined ? {} : { querySession }),
    canCreate: () => assertCanCreateSession(ctx.runtime),
  };
  const opened = request === "create_session" ? createSession(sessionCtx, line) : bindSession(sessionCtx, line);
  if (!opened.ok) {
    answer(ctx, req, res, opened.status, [opened.line], opened.session, opened.status === 503 ? { "Retry-After": "1" } : {});
    return;
  }
  res.writeHead(200, textHeaders(ctx, req));
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  ctx.log(200, { session: opened.session.id });
  openBinding(opened.session, httpWire(res), opened.plan, opened.preamble);
}

function httpWire(res: ServerResponse): Wire {
  return {
    write: (text) => {
      if (!res.writableEnded && !res.destroyed) res.write(text);
    },
    backlog: () => res.writableLength,
    onDrain: (callback) => res.on("drain", callback),
    onClose: (callback) => res.once("close", callback),
    finish: () => {
      if (!res.writableEnded) res.end();
    },
  };
}

function answer(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  lines: readonly string[],
  session: string | undefined,
  headers: Record<string, string> = {},
): void {
  const text = lines.map((line) => `${line}${LINE_END}`).join("");
  res.writeHead(status, { ...headers, ...textHeaders(ctx, req), "Content-Length": String(Buffer.byteLength(text)) });
  res.end(text);
  ctx.log(status, session === undefined ? {} : { session });
}

function textHeaders(ctx: RequestContext, req: IncomingMessage): Record<string, string> {
  return {
    ...ctx.baseHeaders,
    ...corsHeaders(req),
    "Content-Type": "text/plain; charset=utf-8",
    "Cache-Control": "no-store",
    // nginx buffers proxied responses unless told otherwise.
    "X-Accel-Buffering": "no",
  };
}

/**
 * Browser clients (lightstreamer-client-web) call from the page's origin: any origin may
 * read the answers, with credentials, as a Lightstreamer Server allowing all origins does.
 * The origin relies on no cookie, so this grants nothing a cookie-less request lacks.
 */
function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined) return {};
  return { "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true", Vary: "Origin" };
}

function answerPreflight(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): void {
  const requested = req.headers["access-control-request-headers"];
  req.resume();
  res.writeHead(204, {
    ...ctx.baseHeaders,
    ...corsHeaders(req),
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    ...(requested === undefined ? {} : { "Access-Control-Allow-Headers": requested }),
    "Access-Control-Max-Age": "600",
    "Content-Length": "0",
  });
  res.end();
  ctx.log(204);
}
