/**
 * F14 (issue 16), with real processes: when an origin is gone, the client's errors name
 * no origin id, pool name or origin address — CR (502 origin_unreachable) and S (the
 * placement's failure or 503 no_origin_available) alike, in every protocol's words. The
 * operator still sees the origin in the session's event log (admin API).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson } from "./support/http-clients.ts";
import { startRecordingOrigin, type RecordingOrigin } from "./support/recording-origin.ts";
import { testStack } from "./support/stack.ts";

const ORIGIN_ID = "origin-secret-7f3";
const POOL_NAME = "pool-secret-9";

let stack: RunningStack;
let origin: RecordingOrigin;
let secrets: string[];

beforeAll(async () => {
  origin = await startRecordingOrigin(() => []);
  secrets = [ORIGIN_ID, POOL_NAME, new URL(origin.url).port];
  const pools = [{ name: POOL_NAME, hosts: ["*"], origins: [{ id: ORIGIN_ID, url: origin.url }] }];
  stack = await testStack({ origins: [], vars: { POOLS: JSON.stringify({ pools }) } });
});

afterAll(async () => {
  await stack?.close();
  await origin?.close();
});

function expectNoSecret(what: string, text: string): void {
  for (const secret of secrets) expect({ what, text, secret }).not.toEqual({ what, text: expect.stringContaining(secret), secret });
}

describe("F14: errors about origins name none", () => {
  it("CR to a lost origin: 502 origin_unreachable without its id; S: refused without the pool's name", async () => {
    const created = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
    expect(created.status).toBe(200);
    const token = String(created.headers["x-affinity-token"]);
    await origin.close();

    const cr = await httpJson(`${stack.edgeUrl}/session/rec/control`, { method: "POST", headers: { "x-affinity-token": token } });
    expect(cr.status).toBe(502);
    expect(cr.body).toEqual({ error: "origin_unreachable", message: expect.any(String) });
    expectNoSecret("CR", JSON.stringify(cr.body));

    // Twice: the first S tries the origin (502 from the placement), the next finds none (503).
    for (let i = 0; i < 2; i++) {
      const s = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
      expect([502, 503]).toContain(s.status);
      expectNoSecret(`S ${i}`, JSON.stringify(s.body));
      const eio = await httpJson(`${stack.edgeUrl}/socket.io/?EIO=4&transport=polling`);
      expect(eio.status).toBeGreaterThanOrEqual(400);
      expectNoSecret(`Engine.IO S ${i}`, JSON.stringify(eio.body));
    }

    // The operator's view still names it.
    const sk = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sk: string }).sk;
    const record = await httpJson(`${stack.edgeUrl}/_edge/admin/sessions/${sk}`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
    expect(JSON.stringify(record.body)).toContain(ORIGIN_ID);
  });
});
