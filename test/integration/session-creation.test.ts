/**
 * What creates a session (issue 14), counted on disk, not assumed: every Durable Object
 * that starts leaves its SQLite file in the persist directory, so files are objects
 * created; what the files hold is storage; registry rows are what the registry counts.
 *
 * - 300 tokenless requests that open no session in any protocol (favicon, robots, `/`,
 *   `/.env`, random paths, a TLCP CORS preflight, the Socket.IO client script): no object,
 *   no registry row; each is answered by an origin (stateless relay) — or refused by a
 *   pool that says `unmatched: "reject"`, without reaching one.
 * - POST /session, a `/ws` WebSocket, a TLCP create_session and an Engine.IO handshake
 *   each still open one session, with storage and a registry row.
 * - An S request every origin refuses (500, 503) leaves its object's database empty.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { startOriginProcess, startReadyProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import { ADMIN_LISTENER, type RunningStack } from "../../infra/local/stack.ts";
import { httpJson, openWebSocket } from "./support/http-clients.ts";
import { persistedObjects, registryEntries } from "./support/persisted-objects.ts";
import { createTlcpSession } from "./support/tlcp-raw.ts";
import { inBatches, originRequests, testStack } from "./support/stack.ts";
import { sleep, withTimeout } from "./support/wait.ts";

const SOCKET_IO = join(REPO_ROOT, "test", "integration", "support", "socketio-server.ts");
const STRAY = 300;

let persistDir: string;
let origins: OriginProcess[] = [];
let socketIo: OriginProcess | undefined;
let refusing: Server;
let stack: RunningStack;

/** An origin that is healthy and refuses every session: 500 for POST /session, 503 for the rest. */
function startRefusingOrigin(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/health") res.writeHead(200, { "content-type": "application/json" }).end('{"state":"active","sessions":0}');
    else res.writeHead(req.url === "/session" ? 500 : 503, { "x-origin-id": "refusing" }).end("no");
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

beforeAll(async () => {
  persistDir = await mkdtemp(join(tmpdir(), "push-edge-sessions-"));
  origins = await Promise.all(["o1", "o2"].map((id) => startOriginProcess(id, ["--listen", "combined=127.0.0.1:0", "--listen", ADMIN_LISTENER])));
  socketIo = await startReadyProcess(SOCKET_IO, "s1", ["--id", "s1"]);
  refusing = await startRefusingOrigin();
  const reference = origins.map((o) => ({ id: o.id, url: o.url }));
  // Pools by host name: the reference origins for 127.0.0.1 ("*"), a Socket.IO server for
  // `localhost`, a refusing origin and a rejecting pool for host names set in requests.
  const pools = [
    { name: "default", hosts: ["*"], origins: reference },
    { name: "sio", hosts: ["localhost"], origins: [{ id: "s1", url: socketIo.url }] },
    { name: "refusing", hosts: ["refuse.test"], origins: [{ id: "r1", url: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}` }] },
    { name: "strict", hosts: ["strict.test"], origins: reference, settings: { sessionStart: { unmatched: "reject" } } },
  ];
  stack = await testStack({ origins: reference, persistDir, vars: { POOLS: JSON.stringify({ pools }) } });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await Promise.all([...origins, ...(socketIo === undefined ? [] : [socketIo])].map((o) => o.stop()));
  await new Promise((resolve) => refusing?.close(resolve));
  await rm(persistDir, { recursive: true, force: true });
});

/** The 300 requests: nothing any push protocol calls session creation. */
function strayRequest(i: number): { method: string; path: string } {
  const all = [
    { method: "GET", path: "/favicon.ico" },
    { method: "GET", path: "/robots.txt" },
    { method: "GET", path: "/" },
    { method: "GET", path: "/.env" },
    { method: "HEAD", path: "/" },
    { method: "GET", path: `/random-${i}` },
    { method: "POST", path: `/wp-login-${i}.php` },
    { method: "GET", path: `/session/not-a-session-${i}` },
    { method: "OPTIONS", path: "/lightstreamer/create_session.txt" },
    { method: "GET", path: "/socket.io/socket.io.js" },
  ];
  return all[i % all.length] ?? { method: "GET", path: "/" };
}

async function sessionObjects(): Promise<{ created: number; withStorage: number }> {
  const objects = await persistedObjects(persistDir, "SessionObject");
  return { created: objects.length, withStorage: objects.filter((o) => o.tables > 0).length };
}

describe("what opens a session", () => {
  it("300 tokenless non-S requests open no session object: relayed statelessly to an origin", async () => {
    const before = await sessionObjects();
    const results = await inBatches(
      Array.from({ length: STRAY }, (_, i) => strayRequest(i)),
      20,
      async ({ method, path }) => {
        const res = await fetch(`${stack.edgeUrl}${path}`, { method, ...(method === "POST" ? { body: "x=1" } : {}) });
        await res.arrayBuffer();
        return { status: res.status, origin: res.headers.get("x-origin-id"), token: res.headers.get("x-affinity-token"), cookie: res.headers.get("set-cookie") };
      },
    );
    // Every one was the origin's own answer (the reference origin marks each), none a session's.
    expect(results.filter((r) => r.origin === "o1" || r.origin === "o2")).toHaveLength(STRAY);
    expect(results.filter((r) => r.token !== null || (r.cookie ?? "").includes("pe_affinity"))).toEqual([]);
    expect(new Set(results.map((r) => r.origin))).toEqual(new Set(["o1", "o2"]));
    // Both origins logged them: 300 in all (the reference origin logs every request).
    const logged = [...(await originRequests(stack, origins)).values()].flat().filter((r) => r.path !== "/health" && !r.path.startsWith("/_debug"));
    expect(logged).toHaveLength(STRAY);

    await sleep(500);
    expect(await sessionObjects()).toEqual(before);
    expect(before.created).toBe(0);
    expect(await registryEntries(persistDir)).toBe(0);
  });

  it("a pool with unmatched: reject refuses them without reaching an origin, and still opens sessions", async () => {
    const favicons = async () => [...(await originRequests(stack, origins)).values()].flat().filter((r) => r.path === "/favicon.ico").length;
    const before = await favicons();
    const refused = await httpJson(`${stack.edgeUrl}/favicon.ico`, { headers: { host: "strict.test" } });
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({ error: "not_a_session_request" });
    expect(await favicons()).toBe(before);
    const created = await httpJson(`${stack.edgeUrl}/session`, { method: "POST", headers: { host: "strict.test" } });
    expect(created.status).toBe(201);
    expect(created.headers["x-affinity-token"]).toBeDefined();
  });

  it("POST /session, a /ws WebSocket, TLCP create_session and an Engine.IO handshake each open one session", async () => {
    const before = await sessionObjects();
    const entriesBefore = await registryEntries(persistDir);

    const plain = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
    expect(plain.status).toBe(201);
    expect(plain.headers.get("x-affinity-token")).not.toBeNull();
    await plain.arrayBuffer();

    const ws = await openWebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/ws`);
    expect(await ws.nextJson("the origin's hello")).toMatchObject({ type: "hello" });

    const tlcpId = await createTlcpSession(stack.edgeUrl);
    expect(tlcpId.split(".")).toHaveLength(3);

    // `localhost` is the Socket.IO pool: the open packet's sid is the edge's token.
    const port = new URL(stack.edgeUrl).port;
    const handshake = await fetch(`http://localhost:${port}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).toBe(200);
    const open = JSON.parse((await handshake.text()).slice(1)) as { sid: string };
    expect(open.sid.split(".")).toHaveLength(3);

    const after = await sessionObjects();
    expect(after.created - before.created).toBe(4);
    expect(after.withStorage - before.withStorage).toBe(4);
    // Registration is off the response path: wait for it, bounded.
    await withTimeout(
      (async () => {
        while ((await registryEntries(persistDir)) < entriesBefore + 4) await sleep(100);
      })(),
      10_000,
      "the registry to count the four sessions",
    );
    expect(await registryEntries(persistDir)).toBe(entriesBefore + 4);
    ws.ws.close(1000);
  });

  it("an S request every origin refuses leaves no session storage and no registry row", async () => {
    const before = await sessionObjects();
    const entriesBefore = await registryEntries(persistDir);
    const refused = await httpJson(`${stack.edgeUrl}/session`, { method: "POST", headers: { host: "refuse.test" } });
    expect(refused.status).toBe(500);
    expect(refused.headers["x-affinity-token"]).toBeUndefined();
    const full = await httpJson(`${stack.edgeUrl}/ws`, { headers: { host: "refuse.test", upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
    expect(full.status).toBe(503);

    await sleep(500);
    const after = await sessionObjects();
    // The refused POST started an object (a file, locally) that holds nothing. The refused
    // WebSocket started none: in relay mode edge the Worker opens a WebSocket S itself and
    // brings the session object into being only once the origin answered 101.
    expect(after.created - before.created).toBe(1);
    expect(after.withStorage).toBe(before.withStorage);
    const empty = (await persistedObjects(persistDir, "SessionObject")).filter((o) => o.tables === 0);
    expect(empty.length).toBe(1);
    for (const o of empty) expect(o.bytes).toBeLessThanOrEqual(4096);
    expect(await registryEntries(persistDir)).toBe(entriesBefore);
  });
});
