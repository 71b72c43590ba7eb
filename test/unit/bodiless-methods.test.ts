/**
 * A GET or HEAD that announces an empty body (`Content-Length: 0`, as some clients and
 * proxies send) is relayed like any other: the edge never hands the runtime a GET with a
 * body, which it refuses — that was a 500 internal_error on the S, CR and stateless paths.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { coordinatorStub } from "../../durable-objects/pool/stub.ts";
import { createApp } from "../../workers/edge/app.ts";
import { resetPoolViews } from "../../workers/edge/balance/pool-view.ts";

const EDGE = "http://push.example.com";
const app = createApp();
let seen: string[] = [];

beforeEach(async () => {
  resetPoolViews();
  seen = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.pathname === "/health") return Response.json({ state: "active", sessions: 0, capacity: 1000 });
    seen.push(`${req.method} ${url.pathname}`);
    if (url.pathname === "/socket.io/") return new Response(`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`);
    return new Response("ok");
  });
  const coordinator = coordinatorStub(env, "default");
  for (let i = 0; i < 2; i++) if (!(await runDurableObjectAlarm(coordinator))) break;
});
afterEach(() => {
  vi.restoreAllMocks();
});

const call = (path: string, init: RequestInit = {}) => app.request(`${EDGE}${path}`, init, env);
const emptyBody = { "content-length": "0" };

describe("GET and HEAD with Content-Length: 0", () => {
  it("a tokenless GET that opens no session is relayed statelessly", async () => {
    for (const method of ["GET", "HEAD"]) {
      const res = await call("/favicon.ico", { method, headers: emptyBody });
      expect(res.status, method).toBe(200);
    }
    expect(seen).toEqual(["GET /favicon.ico", "HEAD /favicon.ico"]);
  });

  it("an S request by GET (Engine.IO handshake) opens its session", async () => {
    const res = await call("/socket.io/?EIO=4&transport=polling", { headers: emptyBody });
    expect(res.status).toBe(200);
    expect(seen).toEqual(["GET /socket.io/"]);
  });

  it("a CR GET reaches the session's origin", async () => {
    const s = await call("/session", { method: "POST" });
    const token = s.headers.get("x-affinity-token") ?? "";
    expect(token).not.toBe("");
    const res = await call("/session/x", { headers: { ...emptyBody, "x-affinity-token": token } });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toBe("GET /session/x");
  });
});
