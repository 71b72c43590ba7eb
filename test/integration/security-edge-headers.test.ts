/**
 * Issue 16, F10, F11, F12 — headers across the edge, with real processes: the edge in
 * workerd and a recording origin (a plain Node HTTP server) reached over both transports
 * (`fetch`, and `tcp` with a PROXY v2 header through a PROXY-terminating front).
 *
 *  F10  a client's `Connection` header naming the edge's own headers does not remove them;
 *  F11  client-sent address headers of the known family never reach the origin;
 *  F12  an origin's `X-Push-Edge-Failure`, `Set-Cookie: pe_affinity=…` and `X-Affinity-Token`
 *       are stripped (plain responses and WebSocket 101s): it can neither mark itself down
 *       nor set a client's affinity.
 */
import type { IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson, type JsonResponse } from "./support/http-clients.ts";
import { startProxyFront, type ProxyFront } from "./support/proxy-front.ts";
import { startRecordingOrigin, type RecordingOrigin } from "./support/recording-origin.ts";
import { testStack } from "./support/stack.ts";
import { WAIT_MS, withTimeout } from "./support/wait.ts";

const CLAIMS = ["x-client-ip", "x-original-forwarded-for", "x-cluster-client-ip", "client-ip", "fastly-client-ip", "true-client-ip", "x-real-ip", "x-forwarded-port", "x-forwarded-server"];
const FORGED_TOKEN = "forged.token.value";

let stack: RunningStack;
let fetchOrigin: RecordingOrigin;
let tcpOrigin: RecordingOrigin;
let front: ProxyFront;

/** What a hostile origin sends back on every path containing "claims". */
const hostile = (path: string): Array<[string, string]> =>
  path.includes("claims")
    ? [
        ["x-push-edge-failure", "origin_unreachable"],
        ["set-cookie", "pe_affinity=forged; Path=/"],
        ["set-cookie", "app=1; Path=/"],
        ["x-affinity-token", FORGED_TOKEN],
      ]
    : [];

beforeAll(async () => {
  fetchOrigin = await startRecordingOrigin(hostile);
  tcpOrigin = await startRecordingOrigin(hostile);
  front = await startProxyFront(tcpOrigin.url);
  // `POST /claims-create` opens a session here (the generic protocol's default is only
  // `POST /session`): the hostile origin's headers must meet the S path too.
  const settings = { sessionStart: { requests: [{ methods: ["POST"], path: "/session" }, { methods: ["POST"], path: "/claims-create" }] } };
  const pools = [
    { name: "viafetch", hosts: ["*"], origins: [{ id: "rec-fetch", url: fetchOrigin.url }], settings },
    { name: "viatcp", hosts: ["tcp.test"], origins: [{ id: "rec-tcp", url: front.url, transport: "tcp", proxy: { version: 2 } }], settings },
  ];
  stack = await testStack({ origins: [], vars: { POOLS: JSON.stringify({ pools }) } });
});

afterAll(async () => {
  await stack?.close();
  await Promise.allSettled([fetchOrigin?.close(), tcpOrigin?.close(), front?.close()]);
});

const TRANSPORTS = [
  { name: "fetch", host: undefined, origin: () => fetchOrigin },
  { name: "tcp", host: "tcp.test", origin: () => tcpOrigin },
] as const;

function request(host: string | undefined, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<JsonResponse> {
  return httpJson(`${stack.edgeUrl}${path}`, { ...options, headers: { ...(host === undefined ? {} : { host }), ...options.headers } });
}

async function newSession(host: string | undefined): Promise<string> {
  const created = await request(host, "/session", { method: "POST" });
  expect(created.status).toBe(200);
  return String(created.headers["x-affinity-token"]);
}

/** Opens a WebSocket through the edge and returns the 101's headers. */
function upgradeHeaders(host: string | undefined, path: string): Promise<IncomingHttpHeaders> {
  const ws = new WebSocket(`${stack.edgeUrl.replace("http", "ws")}${path}`, { perMessageDeflate: false, headers: host === undefined ? {} : { host } });
  ws.on("error", () => {});
  return withTimeout(
    new Promise<IncomingHttpHeaders>((resolve, reject) => {
      ws.once("upgrade", (res) => resolve(res.headers));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    }),
    WAIT_MS,
    `WebSocket ${path}`,
  ).finally(() => ws.terminate());
}

function cookies(res: JsonResponse): string[] {
  const value = res.headers["set-cookie"];
  return value === undefined ? [] : value;
}

describe.each(TRANSPORTS)("over the $name transport", ({ host, origin }) => {
  it("F10: the origin gets the edge's forwarding headers and token whatever the client's Connection header names", async () => {
    const token = await newSession(host);
    const relayed = await request(host, "/session/rec/hop", {
      headers: {
        "x-affinity-token": token,
        connection: "keep-alive, X-Forwarded-For, forwarded, x-push-edge-token, x-forwarded-proto, x-forwarded-host",
        "x-app": "kept",
      },
    });
    expect(relayed.status).toBe(200);
    const seen = origin().last("/session/rec/hop")?.headers;
    expect(seen).toBeDefined();
    // Before the fix the tcp transport removed every header the client's Connection named.
    expect(seen?.["x-push-edge-token"]).toBe(token);
    expect(seen?.["x-forwarded-for"]).toEqual(expect.any(String));
    expect(seen?.["forwarded"]).toMatch(/^for=.*;proto=http;host=/);
    expect(seen?.["x-forwarded-proto"]).toBe("http");
    expect(seen?.["x-forwarded-host"]).toEqual(expect.any(String));
    expect(seen?.["x-app"]).toBe("kept");
  });

  it("F11: client-sent address headers of the known family never reach the origin; other headers do", async () => {
    const token = await newSession(host);
    const claims = Object.fromEntries(CLAIMS.map((h) => [h, "203.0.113.66"]));
    const relayed = await request(host, "/session/rec/claimed", { headers: { "x-affinity-token": token, "x-app": "kept", ...claims } });
    expect(relayed.status).toBe(200);
    const seen = origin().last("/session/rec/claimed")?.headers;
    expect(seen).toBeDefined();
    for (const h of CLAIMS) expect({ header: h, value: seen?.[h] }).toEqual({ header: h, value: undefined });
    expect(JSON.stringify(seen)).not.toContain("203.0.113.66");
    expect(seen?.["x-app"]).toBe("kept");
  });

  it("F12: an origin's failure header, affinity cookie and token are stripped; it is not marked down", async () => {
    const created = await request(host, "/claims-create", { method: "POST" });
    // Without the fix the edge took the origin's failure header for its own: it marked the
    // origin down and answered without a token.
    expect(created.status).toBe(200);
    expect(created.headers["x-push-edge-failure"]).toBeUndefined();
    const token = String(created.headers["x-affinity-token"]);
    expect(token).not.toBe(FORGED_TOKEN);
    expect(token.split(".")).toHaveLength(3);
    expect(cookies(created)).toContainEqual(expect.stringMatching(/^app=1/));
    expect(cookies(created).filter((c) => c.startsWith("pe_affinity="))).toEqual([expect.stringContaining(`pe_affinity=${token}`)]);

    const relayed = await request(host, "/claims-control", { headers: { "x-affinity-token": token } });
    expect(relayed.status).toBe(200);
    expect(relayed.body).toBe("recorded\n");
    expect(relayed.headers["x-push-edge-failure"]).toBeUndefined();
    expect(relayed.headers["x-affinity-token"]).toBeUndefined();
    expect(cookies(relayed)).toEqual([expect.stringMatching(/^app=1/)]);

    // A WebSocket S request whose origin adds the same headers to its 101.
    const upgraded = await upgradeHeaders(host, "/claims-ws");
    expect(upgraded["x-push-edge-failure"]).toBeUndefined();
    const wsToken = String(upgraded["x-affinity-token"]);
    expect(wsToken.split(".")).toHaveLength(3);
    const wsCookies = ([] as string[]).concat(upgraded["set-cookie"] ?? []);
    expect(wsCookies.filter((c) => c.startsWith("pe_affinity="))).toEqual([expect.stringContaining(`pe_affinity=${wsToken}`)]);

    const pool = await httpJson(`${stack.edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
    const origins = (pool.body as { pools: Array<{ origins: Array<{ id: string; healthy: boolean }> }> }).pools.flatMap((p) => p.origins);
    expect(origins.every((o) => o.healthy)).toBe(true);
  });
});
