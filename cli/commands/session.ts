/**
 * `push-edge session <key | origin-session-id | token>`: one session's record and event
 * log, as its Durable Object keeps them (session-lookup.ts finds it).
 */
import type { SessionEventView } from "../client.ts";
import { GLOBAL_HELP, onePositional, type Command } from "../command.ts";
import { EXIT, usageError } from "../errors.ts";
import { clock, inlineDetail, table } from "../format.ts";
import { byOriginSessionId, findSession, MATCHED_WORDS, type Found } from "../session-lookup.ts";

export const session: Command = {
  name: "session",
  summary: "one session's record (origin, state, times) and event log, by key, origin session id or token",
  help: `usage: push-edge session <key | origin-session-id | token> [--json]
       push-edge session --origin-session-id ID [--json]

Finds the session from what you have, and says which it matched:
  - a whole affinity token (X-Affinity-Token): its "sk" claim, decoded here;
  - the session key: the token's "sk" claim (push-edge token inspect shows it);
  - the id the origin gave the session (X-Session-Id, a Lightstreamer session id, an
    Engine.IO sid — as in the origin's own logs), among live sessions.
--origin-session-id looks up only by the origin's id.
Prints the session's origin, origin-side session id, state, times, open WebSockets and
its event log (created, websocket_open/close, origin_unreachable, ended + reason).
--json prints the edge's answer and how it was found:
{"matchedBy": "token"|"session_key"|"origin_session_id", "session": {...}, "openWebSockets": N, "events": [...]}.

${GLOBAL_HELP}`,
  options: { "origin-session-id": { type: "string" } },
  async run(positionals, values, ctx) {
    const byOriginId = values["origin-session-id"];
    let found: Found;
    if (typeof byOriginId === "string") {
      if (positionals.length > 0) throw usageError("give either <key> or --origin-session-id, not both");
      found = await byOriginSessionId(ctx.client, byOriginId, `no live session has origin session id ${byOriginId}`);
    } else {
      found = await findSession(ctx.client, onePositional(positionals, "<key | origin-session-id | token>").trim());
    }
    ctx.out(ctx.json ? JSON.stringify({ matchedBy: found.matchedBy, ...found.view }, null, 2) : describeSession(found));
    return EXIT.ok;
  },
};

function describeSession({ view, matchedBy }: Found): string {
  const s = view.session;
  const at = (v: unknown) => (typeof v === "number" ? clock(v) : "-");
  const rows: Array<[string, string]> = [
    ["matched", MATCHED_WORDS[matchedBy]],
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
