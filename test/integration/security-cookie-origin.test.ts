/**
 * F13 (issue 16), with real processes: a request whose affinity token rides in the
 * `pe_affinity` cookie — HTTP CR or WebSocket upgrade — must come from a web origin the
 * pool allows (default: the request's own host), so a cross-site page cannot ride a
 * victim's session. A refused request never reaches the origin. Explicitly sent tokens
 * (header, query) are not ambient and are not checked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { originAllowed, resolveAllowedOrigins } from "../../config/allowed-origins.ts";
import { ConfigError } from "../../config/config-error.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson, rejectedUpgrade, type JsonResponse } from "./support/http-clients.ts";
import { startRecordingOrigin, type RecordingOrigin } from "./support/recording-origin.ts";
import { testStack } from "./support/stack.ts";

const EVIL = "https://evil.example";
const APP = "https://app.example.com";

let stack: RunningStack;
let origin: RecordingOrigin;
let self: string;

beforeAll(async () => {
  origin = await startRecordingOrigin(() => []);
  const pools = [
    { name: "default", hosts: ["*"], origins: [{ id: "rec", url: origin.url }] },
    { name: "app", hosts: ["push.app.test"], origins: [{ id: "rec-app", url: origin.url }], settings: { allowedOrigins: [APP] } },
  ];
  stack = await testStack({ origins: [], vars: { POOLS: JSON.stringify({ pools }) } });
  self = stack.edgeUrl; // the request's own host: http://127.0.0.1:<port>
});

afterAll(async () => {
  await stack?.close();
  await origin?.close();
});

async function session(host?: string): Promise<string> {
  const created = await httpJson(`${stack.edgeUrl}/session`, { method: "POST", headers: host === undefined ? {} : { host } });
  expect(created.status).toBe(200);
  return String(created.headers["x-affinity-token"]);
}

function withCookie(path: string, token: string, headers: Record<string, string>): Promise<JsonResponse> {
  return httpJson(`${stack.edgeUrl}${path}`, { headers: { cookie: `pe_affinity=${token}`, ...headers } });
}

describe("F13: cookie-carried requests and the Origin header", () => {
  it("refuses a cookie-carried CR from another site (403 origin_not_allowed), which never reaches the origin", async () => {
    const token = await session();
    const refused = await withCookie("/session/x/cross-site", token, { origin: EVIL });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: "origin_not_allowed", message: expect.any(String) });
    expect(origin.last("/session/x/cross-site")).toBeUndefined();
    // A browser's fetch without Origin (a cross-site GET) still says where it came from.
    const sneaky = await withCookie("/session/x/no-origin", token, { "sec-fetch-site": "cross-site" });
    expect(sneaky.status).toBe(403);
    expect(origin.last("/session/x/no-origin")).toBeUndefined();
    // The cookie is not cleared by an attacker's page: the victim's session goes on.
    expect(refused.headers["set-cookie"]).toBeUndefined();
  });

  it("refuses a cookie-carried WebSocket upgrade from another site", async () => {
    const token = await session();
    const ws = await rejectedUpgrade(`${stack.edgeUrl.replace("http", "ws")}/session/x/ws`, { cookie: `pe_affinity=${token}`, origin: EVIL });
    expect(ws.status).toBe(403);
    expect(ws.body).toMatchObject({ error: "origin_not_allowed" });
    expect(origin.last("/session/x/ws")).toBeUndefined();
  });

  it("lets the same host (any spelling), non-browser clients and explicitly sent tokens through", async () => {
    const token = await session();
    const sameHost = await withCookie("/session/x/same", token, { origin: self });
    expect(sameHost.status).toBe(200);
    const port = new URL(self).port;
    expect((await withCookie("/session/x/same-dot", token, { origin: `http://127.0.0.1.:${port}`, "sec-fetch-site": "same-origin" })).status).toBe(200);
    expect((await withCookie("/session/x/curl", token, {})).status).toBe(200);
    const explicit = await httpJson(`${stack.edgeUrl}/session/x/explicit`, { headers: { "x-affinity-token": token, origin: EVIL } });
    expect(explicit.status).toBe(200);
    expect(origin.last("/session/x/explicit")).toBeDefined();
  });

  it("a pool's allowedOrigins replaces the default", async () => {
    const token = await session("push.app.test");
    const host = { host: "push.app.test" };
    expect((await withCookie("/session/x/app", token, { ...host, origin: APP })).status).toBe(200);
    expect((await withCookie("/session/x/app-self", token, { ...host, origin: "http://push.app.test" })).status).toBe(403);
    expect((await withCookie("/session/x/app-evil", token, { ...host, origin: EVIL })).status).toBe(403);
  });
});

describe("F13: the allowedOrigins setting", () => {
  it("parses self, * and web origins; errors name the field", () => {
    expect(resolveAllowedOrigins(undefined, "f")).toEqual(["self"]);
    expect(resolveAllowedOrigins(["self", "HTTPS://App.Example.com.:443/"], "f")).toEqual(["self", "https://app.example.com"]);
    expect(() => resolveAllowedOrigins(["https://app.example.com/page"], "POOLS.pools[0].settings.allowedOrigins")).toThrow(ConfigError);
    expect(() => resolveAllowedOrigins(["ftp://x"], "POOLS.pools[0].settings.allowedOrigins")).toThrow(/POOLS\.pools\[0\]\.settings\.allowedOrigins\[0\]: must be/);
    expect(() => resolveAllowedOrigins([], "POOLS.pools[0].settings.allowedOrigins")).toThrow(/allowedOrigins: must be a non-empty array/);
    expect(originAllowed(["*"], "null", "a.test")).toBe(true);
    expect(originAllowed(["self"], "null", "a.test")).toBe(false);
    expect(originAllowed(["self"], "https://A.test.:8443", "a.test")).toBe(true);
  });
});
