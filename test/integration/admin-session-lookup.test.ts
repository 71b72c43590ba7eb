/**
 * Finding a session by the origin's own id for it (what an origin's logs name): the admin
 * API answers with the edge's session key, pool and origin, from the session registry.
 */
import { base64url } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { testStack } from "./support/stack.ts";
import { sleep, withTimeout } from "./support/wait.ts";

let stack: RunningStack;

beforeAll(async () => {
  stack = await testStack({ originCount: 2 });
});
afterAll(async () => {
  await stack?.close();
});

const lookup = (query: string) => fetch(`${stack.edgeUrl}/_edge/admin/sessions${query}`, { headers: { authorization: `Bearer ${stack.adminToken}` } });

describe("GET /_edge/admin/sessions?origin_session_id=", () => {
  it("names the session the origin knows by that id", async () => {
    const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; origin: string };
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode((res.headers.get("x-affinity-token") ?? "").split(".")[1] ?? ""))) as { sk: string };

    // The registry learns the session off the response path: poll, bounded.
    const found = await withTimeout(
      (async () => {
        for (;;) {
          const answer = (await (await lookup(`?origin_session_id=${encodeURIComponent(body.id)}`)).json()) as { sessions: unknown[] };
          if (answer.sessions.length > 0) return answer.sessions;
          await sleep(100);
        }
      })(),
      10_000,
      "the registry to know the session",
    );
    expect(found).toEqual([{ sk: claims.sk, pool: "default", origin: body.origin }]);
    const record = (await (await lookup(`/${claims.sk}`)).json()) as { session: { originSessionId: string } };
    expect(record.session.originSessionId).toBe(body.id);
  });

  it("finds nothing for an unknown id, and asks for the parameter", async () => {
    expect(await (await lookup("?origin_session_id=nobody-has-this")).json()).toEqual({ sessions: [] });
    const bad = await lookup("");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "bad_request", message: expect.stringContaining("origin_session_id") });
    expect((await fetch(`${stack.edgeUrl}/_edge/admin/sessions?origin_session_id=x`)).status).toBe(401);
  });
});
