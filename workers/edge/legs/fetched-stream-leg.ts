/**
 * Relay mode `edge`: a request the origin may hold open — an SSE stream, a TLCP bind, an
 * Engine.IO long-poll (the adapter's `longLived`) — that the session object admitted as a
 * leg. This Worker sends it to the origin itself, so the object is not kept awake while
 * the origin waits or streams, and passes a streamed answer on through a native pipe
 * (relay/endable-pipe.ts): no JavaScript per chunk, and still endable with the protocol's
 * end text. The object hears when the leg is over.
 */
import type { EndSignal, ProtocolAdapter } from "../../../protocols/adapter.ts";
import { isStreamingAnswer, relayHttp } from "../../../relay/http-relay.ts";
import { EndablePipe } from "../../../relay/endable-pipe.ts";
import type { TransportSettings } from "../../../relay/transport/settings.ts";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { errorMessage } from "../../../observability/log.ts";
import { isolateLink } from "./isolate-link.ts";
import { sessionEnded, unreachable } from "./leg-answers.ts";

export interface StreamLegInput {
  readonly env: Env;
  readonly sk: string;
  readonly leg: string;
  /** As the session object admitted it: a `poll` is kept out of the event log. */
  readonly kind: "stream" | "poll";
  readonly adapter: ProtocolAdapter;
  /** The request as the origin should get it, before the adapter's toOrigin (route header gone). */
  readonly request: Request;
  readonly origin: { readonly url: string; readonly transport: TransportSettings; readonly originSessionId: string | null };
  readonly token: string;
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

export async function openStreamLeg(input: StreamLegInput): Promise<Response> {
  const { env, sk, leg, adapter } = input;
  // The leg's end is awaited beyond this request's answer: a client that leaves while the
  // origin holds a long-poll cancels the request, and the object must still hear that the
  // leg is over (when the origin answers) — or it would count the leg open forever.
  let over: () => void = () => {};
  input.waitUntil(new Promise<void>((resolve) => (over = resolve)));
  const closed = (side: string, reason: string): void => {
    input.waitUntil(sessionStub(env, sk).legClosed(leg, input.kind, side, 0, reason).catch(() => undefined));
    over();
  };
  const ids = { token: input.token, originSessionId: input.origin.originSessionId };
  let request: Request;
  try {
    request = adapter.toOrigin === undefined ? input.request : await adapter.toOrigin(input.request, ids);
  } catch (err) {
    closed("edge", `the request could not be rewritten for the origin: ${errorMessage(err)}`);
    throw err;
  }

  // Until the answer streams, an end abandons the request (a long-poll may wait for tens of
  // seconds); once it streams, the pipe ends with the protocol's text.
  const waiting = new AbortController();
  let pipe: EndablePipe | undefined;
  let endedWith: EndSignal | undefined;
  const unregister = isolateLink().register(env, sk, leg, (signal) => {
    if (pipe !== undefined) return pipe.end(signal.streamText);
    endedWith = signal;
    waiting.abort("session ended");
  });
  // Read through a call: the end callback sets it, which TypeScript's narrowing cannot see.
  const ended = (): EndSignal | undefined => endedWith;
  const gone = (): Response => {
    unregister();
    closed("edge", "session ended");
    return sessionEnded();
  };

  const link = { url: input.origin.url, transport: input.origin.transport, sessionKey: sk, proxyAuthKeys: env.PROXY_AUTH_KEYS };
  const outcome = await relayHttp(request, link, waiting.signal);
  if (ended() !== undefined) {
    if (outcome.ok) await outcome.response.body?.cancel().catch(() => undefined);
    return gone();
  }
  if (!outcome.ok) {
    unregister();
    closed("origin", outcome.reason);
    return unreachable(outcome.reason, sk, leg);
  }
  const response = outcome.response;
  if (!isStreamingAnswer(response) || response.body === null) {
    // A complete answer (a long-poll's packets, a refusal): the leg is over as it returns.
    unregister();
    closed("origin", `answered ${response.status}`);
    return adapter.relayed === undefined ? response : adapter.relayed(response, ids);
  }
  let split: { head: Uint8Array | undefined; rest: ReadableStream<Uint8Array> | null };
  try {
    split = await streamParts(response, response.body, adapter, ids);
  } catch (err) {
    // Ended while the protocol's first line was being read (the abort fails the read), or
    // the origin's stream broke before its first line was whole.
    if (ended() !== undefined) return gone();
    unregister();
    closed("origin", errorMessage(err));
    return unreachable(errorMessage(err), sk, leg);
  }
  const { head, rest } = split;
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  if (rest === null) {
    unregister();
    closed("origin", "stream over");
    return new Response(head ?? null, init);
  }
  const opened = new EndablePipe(rest, head, (by) => {
    unregister();
    closed(by, "stream over");
  });
  pipe = opened;
  // Ended while the first line was read, and the read got it all the same.
  const early = ended();
  if (early !== undefined) opened.end(early.streamText);
  return new Response(opened.body, init);
}

/** The adapter's rewrite of a streamed answer, split for the native pipe where it can be. */
async function streamParts(
  response: Response,
  body: ReadableStream<Uint8Array>,
  adapter: ProtocolAdapter,
  ids: { token: string; originSessionId: string | null },
): Promise<{ head: Uint8Array | undefined; rest: ReadableStream<Uint8Array> | null }> {
  if (adapter.relayedStream !== undefined) return adapter.relayedStream(body, ids);
  if (adapter.relayed === undefined) return { head: undefined, rest: body };
  return { head: undefined, rest: (await adapter.relayed(response, ids)).body };
}
