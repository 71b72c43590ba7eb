/**
 * `push-edge tail <key>`: follows a session's event log as it grows, by polling the admin
 * session endpoint (an event log holds at most 200 events, so a poll is small). Stops on
 * Ctrl-C or after --for seconds, both exit 0.
 */
import { CliError, EXIT } from "../errors.ts";
import { GLOBAL_HELP, numberFlag, onePositional, type Command } from "../command.ts";
import { pause } from "../pause.ts";
import { eventLine } from "./session.ts";

const DEFAULT_INTERVAL_MS = 1000;

export const tail: Command = {
  name: "tail",
  summary: "follow a session's events as they happen (Ctrl-C or --for SECONDS stops)",
  help: `usage: push-edge tail <key> [--for SECONDS] [--interval MS] [--json]

Prints the session's events so far, then each new one as it happens (polling every
--interval ms, default ${DEFAULT_INTERVAL_MS}), until Ctrl-C or --for SECONDS (exit 0), or until the
session's record is gone (exit 0). An unknown session is an error (exit 1).
--json prints one event per line: {"seq","at","kind","detail"}.

${GLOBAL_HELP}`,
  options: { for: { type: "string" }, interval: { type: "string" } },
  async run(positionals, values, ctx) {
    const sk = onePositional(positionals, "<key>");
    const intervalMs = numberFlag(values, "interval", DEFAULT_INTERVAL_MS, 50);
    const forMs = values.for === undefined ? Number.POSITIVE_INFINITY : numberFlag(values, "for", 0, 0) * 1000;
    const until = Date.now() + forMs;
    let lastSeq = 0;
    let state = "";
    for (let first = true; ; first = false) {
      let view;
      try {
        view = await ctx.client.session(sk);
      } catch (err) {
        // Ctrl-C is how a tail normally ends, even mid-request.
        if (err instanceof CliError && err.code === "interrupted") return EXIT.ok;
        // Records are forgotten some minutes after the session ends: the tail is over.
        if (!first && err instanceof CliError && err.code === "session_not_found") {
          ctx.note(`session ${sk}: its record is gone`);
          return EXIT.ok;
        }
        throw err;
      }
      if (first && !ctx.json) ctx.note(`following session ${sk} on origin ${view.session.originId} (Ctrl-C stops)`);
      for (const e of view.events) {
        if (e.seq <= lastSeq) continue;
        ctx.out(ctx.json ? JSON.stringify(e) : eventLine(e));
        lastSeq = e.seq;
      }
      if (view.session.state !== state) {
        if (state !== "" && !ctx.json) ctx.note(`session ${sk} is now ${view.session.state}`);
        state = view.session.state;
      }
      const left = until - Date.now();
      if (left <= 0 || (await pause(ctx.signal, Math.min(intervalMs, left)))) return EXIT.ok;
    }
  },
};
