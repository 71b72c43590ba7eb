/**
 * Issue 13's first acceptance: an existing Socket.IO fleet works behind the edge with no
 * change. Three unmodified `socket.io` servers (`new Server(httpServer)`, no route of their
 * own — they never answer /health) behind `npm start -- --origins …` with the default
 * health check; real socket.io-client clients in polling, WebSocket and upgrade modes.
 * Then one server is killed (its clients come back on the survivors, no new session lands
 * on it, the pool view and the CLI say why it is down) and restarted (it gets sessions
 * again). A fourth listed origin that does not exist is named once by `npm start`.
 */
import { createServer } from "node:net";
import { join } from "node:path";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { startReadyProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import { npmStart, type NpmStart } from "./support/npm-start.ts";
import { runCli } from "./support/push-edge-cli.ts";
import { withTimeout } from "./support/wait.ts";

const SERVER = join(REPO_ROOT, "test", "integration", "support", "plain-socketio-server.ts");
const MODES = ["polling", "websocket", "upgrade"] as const;
type Mode = (typeof MODES)[number];
const PER_MODE = 10;
const ACKS = 20;

interface Client {
  readonly socket: Socket;
  readonly mode: Mode;
  /** The node of each `hello`: one per Socket.IO session the client had. */
  readonly hellos: string[];
  readonly errors: string[];
}

interface OriginView {
  id: string;
  healthy: boolean;
  checkedAt: number;
  lastError: string | null;
  sessions: number;
}

let servers: OriginProcess[] = [];
let stack: NpmStart;
let gonePort = 0;
const clients: Client[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function startServer(id: string, port = 0): Promise<OriginProcess> {
  return startReadyProcess(SERVER, id, ["--id", id, "--port", String(port)]);
}

function open(mode: Mode): Client {
  const socket = io(stack.edgeUrl, {
    transports: mode === "websocket" ? ["websocket"] : mode === "polling" ? ["polling"] : ["polling", "websocket"],
    forceNew: true,
    reconnectionDelay: 200,
    reconnectionDelayMax: 1_000,
    timeout: 10_000,
  });
  const client: Client = { socket, mode, hellos: [], errors: [] };
  socket.on("hello", (m: { node: string }) => client.hellos.push(m.node));
  socket.on("connect_error", (err) => client.errors.push(err.message));
  clients.push(client);
  return client;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  await withTimeout(
    (async () => {
      while (!(await check())) await new Promise((r) => setTimeout(r, 100));
    })(),
    ms,
    what,
  );
}

const nodeOf = (c: Client): string | undefined => c.hellos.at(-1);

/** Connected, upgraded if its mode upgrades, and `ACKS` acks all from the node that said hello. */
async function roundTrips(c: Client): Promise<void> {
  await until(() => c.socket.connected && nodeOf(c) !== undefined, `a ${c.mode} client's hello`);
  if (c.mode === "upgrade") await until(() => c.socket.io.engine.transport.name === "websocket", "the upgrade to WebSocket");
  const node = nodeOf(c);
  for (let i = 0; i < ACKS; i++) {
    const ack = (await c.socket.timeout(10_000).emitWithAck("echo", i)) as { data: number; node: string };
    expect(ack).toEqual({ data: i, node });
  }
  expect(nodeOf(c), "no new session during the round trips").toBe(node);
}

async function pool(): Promise<OriginView[]> {
  const res = await fetch(`${stack.edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  const body = (await res.json()) as { pools: Array<{ origins: OriginView[] }> };
  return body.pools[0]?.origins ?? [];
}

async function origin(id: string): Promise<OriginView | undefined> {
  return (await pool()).find((o) => o.id === id);
}

beforeAll(async () => {
  servers = await Promise.all(["s1", "s2", "s3"].map((id) => startServer(id)));
  gonePort = await freePort();
  const list = [...servers.map((s) => `${s.id}=${s.url}`), `gone=http://127.0.0.1:${gonePort}`].join(",");
  stack = await npmStart(["--origins", list]);
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.socket.disconnect();
  await stack?.stop();
  await Promise.all(servers.map((s) => s.stop()));
});

describe("an unmodified Socket.IO fleet behind npm start", () => {
  it("takes 30 clients in every mode, each staying on its node for 20 acks, spread over all three", async () => {
    const batch = MODES.flatMap((mode) => Array.from({ length: PER_MODE }, () => open(mode)));
    await Promise.all(batch.map(roundTrips));
    const perNode = new Map<string, number>();
    for (const c of batch) perNode.set(nodeOf(c) ?? "", (perNode.get(nodeOf(c) ?? "") ?? 0) + 1);
    expect([...perNode.keys()].sort()).toEqual(["s1", "s2", "s3"]);
    for (const c of batch) expect(c.hellos, "one session each").toHaveLength(1);
    // The default check passed the servers by their TCP connect, though /health never answers.
    for (const id of ["s1", "s2", "s3"]) expect((await origin(id))?.healthy).toBe(true);
  }, 120_000);

  it("says once, when npm start begins, that an origin fails its first checks, and why", async () => {
    await until(() => stack.stderr.some((l) => l.includes("origin gone")), "npm start's word on the missing origin", 30_000);
    const told = stack.stderr.filter((l) => l.includes("fails its health checks"));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain(`origin gone (http://127.0.0.1:${gonePort}) fails its health checks: TCP connect to 127.0.0.1:${gonePort} failed`);
    expect(told[0]).toContain("is the server running and listening on that port?");
    expect((await origin("gone"))?.sessions).toBe(0);
  });

  it("moves a killed node's clients to the survivors, places nothing there, and says why it is down", async () => {
    const s1 = servers.find((s) => s.id === "s1");
    if (s1 === undefined) throw new Error("no s1");
    const onS1 = clients.filter((c) => nodeOf(c) === "s1");
    expect(onS1.length).toBeGreaterThan(0);
    s1.child.kill("SIGKILL");

    // Each comes back by itself, through the edge, on a survivor, and stays there.
    await until(() => onS1.every((c) => c.socket.connected && nodeOf(c) !== "s1"), "s1's clients back on s2/s3", 45_000);
    await Promise.all(onS1.map(roundTrips));
    // New clients while s1 is down: each connects at its first try, none on s1.
    const fresh = MODES.flatMap((mode) => Array.from({ length: 3 }, () => open(mode)));
    await Promise.all(fresh.map(roundTrips));
    for (const c of fresh) {
      expect(c.errors).toEqual([]);
      expect(["s2", "s3"]).toContain(nodeOf(c));
    }
    for (const c of clients) expect(c.hellos.slice(c.hellos.indexOf("s1") + 1)).not.toContain("s1");

    const view = await origin("s1");
    expect(view?.healthy).toBe(false);
    expect(view?.lastError).toMatch(/^(TCP connect to 127\.0\.0\.1:\d+ failed|traffic: a request could not reach it)/);
    const status = await runCli(["status"], { PUSH_EDGE_URL: stack.edgeUrl, PUSH_EDGE_ADMIN_TOKEN: stack.adminToken });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\n {2}s1 is down: (TCP connect|traffic)/);
  }, 120_000);

  it("gives the restarted node new sessions again", async () => {
    const old = servers.find((s) => s.id === "s1");
    if (old === undefined) throw new Error("no s1");
    const restarted = await startServer("s1", Number(new URL(old.url).port));
    servers = [...servers.filter((s) => s !== old), restarted];
    await until(async () => (await origin("s1"))?.healthy === true, "s1 healthy again", 30_000);
    const before = clients.map((c) => c.hellos.length);
    // New clients (and any session rebalancing moves) reach it; bounded.
    const landed = () => clients.some((c, i) => c.hellos.slice(before[i] ?? 0).includes("s1"));
    await withTimeout(
      (async () => {
        for (let i = 0; !landed(); i++) {
          if (i < 40) open(MODES[i % MODES.length] ?? "polling");
          await new Promise((r) => setTimeout(r, 500));
        }
      })(),
      45_000,
      "a new session on the restarted s1",
    );
    const onNew = clients.find((c, i) => c.hellos.slice(before[i] ?? 0).includes("s1") && nodeOf(c) === "s1");
    if (onNew !== undefined) await roundTrips(onNew);
    expect(landed()).toBe(true);
  }, 120_000);
});
