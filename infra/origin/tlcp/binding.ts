// A binding carries a session's notifications over one wire (an HTTP response or a
// WebSocket) in one of two ways:
//
//   streaming  the preamble, then every notification as it comes; PROBE after a stretch
//              of silence shorter than the announced keep-alive; on HTTP, LOOP,0 and the
//              end of the response before LS_content_length bytes would be exceeded.
//   polling    the preamble, then what is waiting (or, if nothing, the first notification
//              within LS_idle_millis), then LOOP,<LS_polling_millis>; the client polls again.
//
// Lines are taken from the session's log only as they are written, and only while the
// wire keeps up, so a slow peer leaves them in the log rather than in socket buffers.

import { LINE_END, loop } from "./encoding.ts";
import type { BindingPlan } from "./session-requests.ts";
import type { Binding, TlcpSession } from "./session.ts";

/** What a binding needs from the transport under it. */
export type Wire = {
  write(text: string): void;
  /** Bytes accepted but not yet sent. */
  backlog(): number;
  /** Registers the one callback for "the backlog went down". */
  onDrain(callback: () => void): void;
  /** Registers the one callback for "the peer is gone". */
  onClose(callback: () => void): void;
  /** The binding is over. HTTP ends the response; a WebSocket stays open for further
   * requests unless `close` (the session ended). */
  finish(close: boolean): void;
};

/** Above this much unsent data, stop taking lines from the log until the wire drains. */
const SOFT_LIMIT = 64 * 1024;
const LOOP_BYTES = Buffer.byteLength(`${loop(0)}${LINE_END}`);

export function openBinding(session: TlcpSession, wire: Wire, plan: BindingPlan, preamble: readonly string[]): Binding {
  let done = false;
  let written = 0;
  let dataLines = 0;
  let timer: NodeJS.Timeout | undefined;

  // Streaming: PROBE when nothing was written for most of the keep-alive, so it arrives
  // before the client's keep-alive expectation runs out even on a busy machine.
  const probeMs = Math.max(50, Math.floor(plan.keepAliveMs * 0.8));

  const send = (line: string): boolean => {
    const text = `${line}${LINE_END}`;
    const bytes = Buffer.byteLength(text);
    // Keep room for the LOOP that ends the response; the first notification always goes,
    // or a tiny content length would loop forever without progress.
    if (written + bytes + LOOP_BYTES > plan.contentLength && dataLines > 0) return false;
    wire.write(text);
    written += bytes;
    timer?.refresh();
    return true;
  };

  const finish = (lastLine: string | undefined, close: boolean): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    session.unbind(binding);
    if (lastLine !== undefined) wire.write(`${lastLine}${LINE_END}`);
    wire.finish(close);
  };

  const binding: Binding = {
    flush() {
      if (done) return;
      let line: string | undefined;
      while (wire.backlog() < SOFT_LIMIT && (line = session.peek()) !== undefined) {
        if (!send(line)) {
          finish(loop(0), false);
          return;
        }
        session.advance();
        dataLines += 1;
      }
      if (plan.polling && dataLines > 0) finish(loop(plan.pollingMs), false);
    },
    notify(line) {
      if (done) return;
      if (!send(line)) finish(loop(0), false);
    },
    supersede() {
      finish(loop(0), false);
    },
    terminate(line) {
      finish(line, true);
    },
  };

  wire.onDrain(() => binding.flush());
  wire.onClose(() => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    session.unbind(binding);
  });

  const opening = preamble.map((line) => `${line}${LINE_END}`).join("");
  wire.write(opening);
  written += Buffer.byteLength(opening);
  session.bind(binding);
  if (done) return binding;
  if (plan.polling) {
    timer = setTimeout(() => finish(loop(plan.pollingMs), false), plan.idleMs);
  } else {
    timer = setTimeout(function probe() {
      if (done) return;
      if (!send("PROBE")) finish(loop(0), false);
      else timer?.refresh();
    }, probeMs);
  }
  binding.flush();
  return binding;
}
