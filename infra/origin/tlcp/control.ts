// The requests of an existing session, one request line at a time, whichever transport
// carried them (control.txt / msg.txt / heartbeat.txt bodies, or `control` / `msg` /
// `heartbeat` WebSocket messages):
//
//   control   LS_op=add|delete|reconf|constrain|force_rebind|destroy
//   msg       LS_message [LS_sequence LS_msg_prog LS_outcome]: published on `chat`,
//             then MSGDONE on the session's stream when the client asked for an outcome
//   heartbeat nothing to do; answered so the client knows the path works
//
// Each line gets exactly one answer line, in order: REQOK,<reqId> or REQERR,<reqId>,...
// (ERROR,... when the line has no usable LS_reqId), except that LS_ack=false suppresses
// the REQOK (errors are still told). Effects that would cut the answer off (destroy,
// force_rebind end the stream) run after the answers are written: see `after`.

import { error, msgdone, reqerr, reqok } from "./encoding.ts";
import { boolParam, intParam, isValidReqId, type RequestLine } from "./request-params.ts";
import type { TlcpService } from "./service.ts";
import { END_DESTROYED, type TlcpSession } from "./session.ts";
import { addSubscription, deleteSubscription, reconfigureSubscription, type ControlOutcome } from "./subscriptions.ts";

export type SessionRequestKind = "control" | "msg" | "heartbeat";

export type Answer = {
  /** The answer line; undefined when none is due (LS_ack=false, WS heartbeat). */
  line: string | undefined;
  /** Runs once every answer of the batch has been written. */
  after?: () => void;
  /** LS_close_socket=true on destroy: the WebSocket may be closed after the answers. */
  closeSocket?: boolean;
};

const SYNTAX = 65;
const UNKNOWN_SESSION = 20;

export function executeRequest(
  kind: SessionRequestKind,
  session: TlcpSession | undefined,
  request: RequestLine,
  service: TlcpService,
  transport: "http" | "ws",
): Answer {
  const reqId = isValidReqId(request.reqId) ? request.reqId : undefined;
  const refuse = (code: number, message: string): Answer => ({
    line: reqId === undefined ? error(code, message) : reqerr(reqId, code, message),
  });
  if (request.error !== undefined) return refuse(SYNTAX, request.error);
  if (request.reqId !== undefined && reqId === undefined) return refuse(SYNTAX, "LS_reqId must be 1-64 of [A-Za-z0-9._-]");
  if (session === undefined) return refuse(UNKNOWN_SESSION, "session not found");
  const ack = boolParam(request.params, "LS_ack", true);
  if (!ack.ok) return refuse(SYNTAX, ack.message);

  if (kind === "heartbeat") {
    // Over HTTP the reply is the only sign of life the client waits for; on a WebSocket
    // a heartbeat is answered only when it names a request.
    if (transport === "ws" && reqId === undefined) return { line: undefined };
    return { line: ack.value ? reqok(reqId) : undefined };
  }
  if (reqId === undefined) return refuse(SYNTAX, "LS_reqId is required");

  let outcome: ControlOutcome;
  const answer: Answer = { line: undefined };
  if (kind === "msg") {
    outcome = sendMessage(session, service, request.params);
  } else {
    const op = request.params.get("LS_op");
    switch (op) {
      case "add":
        outcome = addSubscription(session, service.adapterSet, request.params);
        break;
      case "delete":
        outcome = deleteSubscription(session, request.params);
        break;
      case "reconf":
        outcome = reconfigureSubscription(session, request.params);
        break;
      case "constrain":
        // Bandwidth is never limited here; the answer states it.
        outcome = { ok: true };
        answer.after = () => session.notify("CONS,unlimited");
        break;
      case "force_rebind":
        outcome = { ok: true };
        answer.after = () => session.rebind();
        break;
      case "destroy": {
        outcome = { ok: true };
        const close = boolParam(request.params, "LS_close_socket", false);
        answer.closeSocket = close.ok && close.value;
        answer.after = () => session.end(END_DESTROYED, "destroyed by the client");
        break;
      }
      default:
        outcome = { ok: false, code: SYNTAX, message: `unknown LS_op ${JSON.stringify(op ?? "")}` };
    }
  }
  if (!outcome.ok) return { line: reqerr(reqId, outcome.code, outcome.message) };
  answer.line = ack.value ? reqok(reqId) : undefined;
  return answer;
}

/** (sequence, prog) pairs already published, per session: a client re-sends a message
 * whose answer it lost, and it must not reach the chat twice. */
const published = new WeakMap<TlcpSession, Set<string>>();
const MAX_REMEMBERED = 10_000;

function sendMessage(session: TlcpSession, service: TlcpService, params: ReadonlyMap<string, string>): ControlOutcome {
  const message = params.get("LS_message");
  if (message === undefined) return { ok: false, code: SYNTAX, message: "LS_message is required" };
  const sequence = params.get("LS_sequence") ?? "UNORDERED_MESSAGES";
  if (!/^[A-Za-z0-9_]{1,128}$/.test(sequence)) return { ok: false, code: SYNTAX, message: "LS_sequence must be 1-128 of [A-Za-z0-9_]" };
  const prog = intParam(params, "LS_msg_prog", { min: 1 });
  if (!prog.ok) return { ok: false, code: SYNTAX, message: prog.message };
  const outcome = boolParam(params, "LS_outcome", true);
  if (!outcome.ok) return { ok: false, code: SYNTAX, message: outcome.message };

  if (prog.value !== undefined) {
    let seen = published.get(session);
    if (seen === undefined) {
      seen = new Set();
      published.set(session, seen);
    }
    const key = `${sequence}\u0000${prog.value}`;
    if (seen.has(key)) return { ok: true };
    seen.add(key);
    if (seen.size > MAX_REMEMBERED) {
      // Sets iterate in insertion order: the first entry is the oldest.
      const oldest = seen.values().next();
      if (oldest.done !== true) seen.delete(oldest.value);
    }
  }
  service.adapterSet.chat(message);
  if (outcome.value && prog.value !== undefined) session.enqueue(msgdone(sequence, prog.value, ""));
  return { ok: true };
}
