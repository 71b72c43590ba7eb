/**
 * Relay mode `edge`: a streaming response the session object found streaming after its own
 * exchange (no length: a chunked download, an S stream) and handed back untouched; this
 * Worker passes it on through a RelayedStream — so that ending the session can append the
 * protocol's end line — and tells the object when it is over. The object does not stay
 * awake for it. (Requests the adapter knows will be held open are fetched by this Worker
 * itself and piped natively: fetched-stream-leg.ts.)
 */
import type { EndSignal } from "../../../protocols/adapter.ts";
import { RelayedStream } from "../../../relay/relayed-stream.ts";
import { LEG_HEADER } from "../../../durable-objects/session/leg-grant.ts";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { isolateLink } from "./isolate-link.ts";

export function pumpStreamLeg(env: Env, sk: string, leg: string, response: Response, waitUntil: (p: Promise<unknown>) => void): Response {
  const headers = new Headers(response.headers);
  headers.delete(LEG_HEADER);
  if (response.body === null) {
    waitUntil(sessionStub(env, sk).legClosed(leg, "stream", "origin", 0, "no body").catch(() => undefined));
    return new Response(null, { status: response.status, statusText: response.statusText, headers });
  }
  let endedBy = "client_or_origin";
  let closedHere: (() => void) | undefined;
  const stream = new RelayedStream(response.body, () => {
    closedHere?.();
    waitUntil(sessionStub(env, sk).legClosed(leg, "stream", endedBy, 0, "stream over").catch(() => undefined));
  });
  closedHere = isolateLink().register(env, sk, leg, (signal: EndSignal) => {
    endedBy = "edge";
    stream.end(signal.streamText);
  });
  return new Response(stream.body, { status: response.status, statusText: response.statusText, headers });
}
