/**
 * Issue 16 F4, TLCP end to end (edge in workerd, one real reference origin, so attacker and
 * victim share it): a client holding a token for its own session names a victim's
 * origin-side session id in a spelling the origin decodes (`LS%5Fsession`) next to its
 * own token. Before the fix the edge verified the token, swapped only the literal
 * `LS_session`, and the origin — which decodes names and takes the first — bound the
 * attacker to the victim's session, or destroyed it. Now the edge refuses both with
 * TLCP's own error, the origin never sees them, and the victim's session lives on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson } from "./support/http-clients.ts";
import { originRequests, testStack } from "./support/stack.ts";
import { createTlcpSession, tlcpLines } from "./support/tlcp-raw.ts";

let stack: RunningStack;

beforeAll(async () => {
  stack = await testStack({ originCount: 1, originArgs: ["--tlcp-session-expiry-ms", "30000"] });
});
afterAll(async () => {
  await stack?.close();
});

/** The origin's own id for the session a token names (admin API record). */
async function originSessionId(token: string): Promise<string> {
  const sk = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sk: string }).sk;
  const record = await httpJson(`${stack.edgeUrl}/_edge/admin/sessions/${sk}`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  const id = (record.body as { session: { originSessionId: string | null } }).session.originSessionId;
  if (id === null) throw new Error("the session object has not learnt the origin's session id");
  return id;
}

const POLL = "LS_polling=true&LS_polling_millis=0&LS_idle_millis=0";

describe("TLCP session isolation through the edge (issue 16 F4)", () => {
  it("refuses an encoded LS_session next to the client's own, in a bind body and a control query; the victim's session lives on", async () => {
    const victim = await createTlcpSession(stack.edgeUrl);
    const attacker = await createTlcpSession(stack.edgeUrl);
    const victimId = await originSessionId(victim);
    const tlcpBefore = ((await originRequests(stack)).get("o1") ?? []).filter((e) => e.path.startsWith("/lightstreamer/")).length;

    // The bind: the attacker would receive the victim's updates.
    const bind = await tlcpLines(stack.edgeUrl, "bind_session", `LS%5Fsession=${victimId}&LS_session=${attacker}&${POLL}`);
    expect(bind.lines[0]).toMatch(/^CONERR,65,/);

    // A destroy naming the victim in the query string, as the origin would read it.
    // (fetch keeps `%5F` as written; URLSearchParams would encode the `%`.)
    const destroy = await fetch(`${stack.edgeUrl}/lightstreamer/control.txt?LS_protocol=TLCP-2.5.0&LS%5Fsession=${victimId}&LS_session=${attacker}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "LS_reqId=1&LS_op=destroy",
      signal: AbortSignal.timeout(10_000),
    });
    const answer = await destroy.text();
    expect(answer).toMatch(/^(ERROR|REQERR),/);
    expect(answer).not.toMatch(/REQOK/);

    // Neither reached the origin.
    const tlcpAfter = ((await originRequests(stack)).get("o1") ?? []).filter((e) => e.path.startsWith("/lightstreamer/")).length;
    expect(tlcpAfter).toBe(tlcpBefore);

    // The victim's session is still there: its own bind gets CONOK under its own token.
    const own = await tlcpLines(stack.edgeUrl, "bind_session", `LS_session=${victim}&${POLL}`);
    expect(own.lines[0]?.split(",").slice(0, 2)).toEqual(["CONOK", victim]);
  });
});
