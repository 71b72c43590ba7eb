/** `push-edge session <key>`: one session's record and event log, as its Durable Object keeps them. */
import type { SessionEventView, SessionView } from "../client.ts";
import { GLOBAL_HELP, onePositional, type Command } from "../command.ts";
import { CliError, EXIT, usageError } from "../errors.ts";
import { clock, inlineDetail, table } from "../format.ts";

export const session: Command = {
  name: "session",
  summary: "one session's record (origin, state, times) and event log",
  help: `usage: push-edge session <key> [--json]
       push-edge session --origin-session-id ID [--json]

<key> is the session key: the token's "sk" claim (push-edge token inspect shows it).
--origin-session-id finds the session by the id its origin gave it (as in the origin's
own logs: a Lightstreamer session id, an Engine.IO sid, X-Session-Id), among live sessions.
Prints the session's origin, origin-side session id, state, times, open WebSockets and
its event log (created, websocket_open/close, origin_unreachable, ended + reason).
--json prints the edge's answer: {"session": {...}, "openWebSockets": N, "events": [...]}.

${GLOBAL_HELP}`,
  options: { "origin-session-id": { type: "string" } },
  async run(positionals, values, ctx) {
    const byOriginId = values["origin-session-id"];
    let key: string;
    if (typeof byOriginId === "string") {
      if (positionals.length > 0) throw usageError("give either <key> or --origin-session-id, not both");
      const { sessions } = await ctx.client.sessionsByOriginId(byOriginId);
      if (sessions.length !== 1) {
        const which = sessions.map((x) => `${x.sk} (pool ${x.pool}, origin ${x.origin})`).join(", ");
        throw new CliError(EXIT.failed, sessions.length === 0 ? "session_not_found" : "ambiguous", sessions.length === 0 ? `no live session has origin session id ${byOriginId}` : `several sessions have origin session id ${byOriginId}: ${which}`);
      }
      key = sessions[0]?.sk ?? "";
    } else {
      key = onePositional(positionals, "<key>");
    }
    const view = await ctx.client.session(key);
    ctx.out(ctx.json ? JSON.stringify(view, null, 2) : describeSession(view));
    return EXIT.ok;
  },
};

function describeSession(view: SessionView): string {
  const s = view.session;
  const at = (v: unknown) => (typeof v === "number" ? clock(v) : "-");
  const rows: Array<[string, string]> = [
    ["session", s.sk],
    ["state", `${s.state}${typeof s.endedReason === "string" ? ` (${s.endedReason})` : ""}`],
    ["pool", String(s.pool)],
    ["origin", `${s.originId} ${String(s.originUrl)}`],
    ["origin session id", typeof s.originSessionId === "string" ? s.originSessionId : "-"],
    ["protocol", String(s.adapter)],
    ["created", at(s.createdAt)],
    ["expires", at(s.expiresAt)],
    ["open WebSockets", String(view.openWebSockets)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n")}\n\nevents (${view.events.length})\n${eventTable(view.events)}`;
}

export function eventTable(events: readonly SessionEventView[]): string {
  return table(events, [
    { header: "SEQ", value: (e) => String(e.seq), right: true },
    { header: "TIME (UTC)", value: (e) => clock(e.at) },
    { header: "EVENT", value: (e) => e.kind },
    { header: "DETAIL", value: (e) => inlineDetail(e.detail) },
  ]);
}

export function eventLine(e: SessionEventView): string {
  return `${clock(e.at)}  #${e.seq}  ${e.kind}  ${inlineDetail(e.detail)}`.trimEnd();
}
