/**
 * The reference session, run for real against one edge: an S request (`POST /session`),
 * one WebSocket to the session (`/session/:id/ws`, a CR request with the affinity
 * token), `crRequests` small CR requests (`GET /session/:id`), then `steadyS` seconds of
 * one message a second each way (the client sends one, the origin echoes it). Before it,
 * workerd's CPU is read over an idle spell of the same stack after a warm-up S request
 * (its background: health checks, the pool coordinator); around each phase, workerd's CPU (/proc) and the session
 * object's counts (admin view) are read. Everything is bounded; nothing here is modelled.
 */
import { Agent } from "node:http";
import { httpRequest } from "../lib/http.ts";
import { EchoSocket } from "../lib/echo-socket.ts";
import { monoMs } from "../lib/clock.ts";
import { cpuMs } from "../lib/procs.ts";
import { errorMessage, sleep } from "../lib/time.ts";
import { readActivity, type ActivityRead } from "./activity.ts";

export interface ReferenceParams {
  /** Length of the steady phase (one message a second each way). */
  readonly steadyS: number;
  /** Small CR requests of the session (the reference hour's "a few"). */
  readonly crRequests: number;
  readonly payloadBytes: number;
  /** workerd's idle CPU is read over this long before the session. */
  readonly idleS: number;
  readonly timeoutMs: number;
}

export interface PhaseCpu {
  readonly ms: number;
  /** workerd's CPU time over the phase (all its threads: the Worker, every object, the runtime). */
  readonly cpuMs: number;
}

export interface ReferenceRun {
  readonly sk: string;
  readonly idle: PhaseCpu;
  /** S + WebSocket open + CR requests. */
  readonly setup: PhaseCpu & { readonly workerRequests: number; readonly crRequests: number; readonly bytes: number };
  readonly steady: PhaseCpu & { readonly messagesEachWay: number; readonly bytes: number; readonly failures: readonly string[] };
  readonly activityAfterSetup: ActivityRead;
  readonly activityAfterSteady: ActivityRead;
}

export interface Edge {
  readonly url: string;
  readonly adminToken: string;
  readonly pids: readonly number[];
}

const TOKEN_HEADER = "x-affinity-token";

/** The token's `sk` claim (the session object's name), read from its payload. */
export function sessionKeyOf(token: string): string {
  const payload = token.split(".")[1];
  if (payload === undefined) throw new TypeError("the affinity token is not a compact JWS");
  const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  const sk = typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>).sk : undefined;
  if (typeof sk !== "string" || sk === "") throw new TypeError("the affinity token has no sk claim");
  return sk;
}

function cpuOf(pids: readonly number[]): number {
  const ms = cpuMs(pids);
  if (ms === undefined) throw new Error(`cannot read the CPU time of workerd ${pids.join(",") || "(no pid)"} from /proc`);
  return ms;
}

/**
 * The edge's pool machinery (the coordinator's health checks and alarms) starts with the
 * first S request and then runs whatever the sessions do: one S request (a session with no
 * leg and no traffic, left alone) starts it before the idle spell, so the idle rate is the
 * background a session adds to, not a fresh workerd's silence.
 */
async function warmUp(edge: Edge, timeoutMs: number): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  try {
    const res = await httpRequest(`${edge.url}/session`, { method: "POST", agent, timeoutMs });
    if (res.status !== 201) throw new Error(`warm-up POST /session: HTTP ${res.status} ${res.body.slice(0, 160)}`);
  } finally {
    agent.destroy();
  }
  await sleep(WARM_UP_SETTLE_MS);
}

/** After the warm-up S request, before the idle spell: its own work done, the machinery running. */
const WARM_UP_SETTLE_MS = 3_000;

export async function runReferenceSession(edge: Edge, p: ReferenceParams, progress: (line: string) => void): Promise<ReferenceRun> {
  await warmUp(edge, p.timeoutMs);
  const idleFrom = { t: monoMs(), cpu: cpuOf(edge.pids) };
  await sleep(p.idleS * 1000);
  const idle = { ms: monoMs() - idleFrom.t, cpuMs: cpuOf(edge.pids) - idleFrom.cpu };

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let socket: EchoSocket | undefined;
  try {
    const setupFrom = { t: monoMs(), cpu: cpuOf(edge.pids) };
    let bytes = 0;
    const created = await httpRequest(`${edge.url}/session`, { method: "POST", agent, timeoutMs: p.timeoutMs });
    bytes += created.body.length;
    const token = created.headers[TOKEN_HEADER];
    if (created.status !== 201 || typeof token !== "string") throw new Error(`POST /session: HTTP ${created.status} without ${TOKEN_HEADER}: ${created.body.slice(0, 160)}`);
    const id = (JSON.parse(created.body) as { id?: unknown }).id;
    if (typeof id !== "string") throw new Error("POST /session: no session id in the body");
    const sk = sessionKeyOf(token);
    const headers = { [TOKEN_HEADER]: token };
    socket = await EchoSocket.open(`${edge.url.replace(/^http/, "ws")}/session/${id}/ws?interval_ms=0`, p.timeoutMs, { headers });
    for (let i = 0; i < p.crRequests; i++) {
      const cr = await httpRequest(`${edge.url}/session/${id}`, { headers, agent, timeoutMs: p.timeoutMs });
      if (cr.status !== 200) throw new Error(`CR GET /session/:id: HTTP ${cr.status} ${cr.body.slice(0, 160)}`);
      bytes += cr.body.length;
    }
    const setup = { ms: monoMs() - setupFrom.t, cpuMs: cpuOf(edge.pids) - setupFrom.cpu, workerRequests: 2 + p.crRequests, crRequests: p.crRequests, bytes };
    const activityAfterSetup = await readActivity(edge.url, edge.adminToken, sk);
    progress(`session ${sk}: S, WebSocket and ${p.crRequests} CR requests in ${(setup.ms / 1000).toFixed(1)} s; ${p.steadyS} s of one message a second each way`);

    const steadyFrom = { t: monoMs(), cpu: cpuOf(edge.pids) };
    const failures: string[] = [];
    let messages = 0;
    const payload = "".padEnd(p.payloadBytes, "m");
    for (let i = 0; i < p.steadyS; i++) {
      // One message a second, on the second: a slow echo does not speed up the next one.
      const due = steadyFrom.t + i * 1000;
      if (monoMs() < due) await sleep(due - monoMs());
      try {
        await socket.echo(`${i}:${payload}`.slice(0, p.payloadBytes), p.timeoutMs);
        messages += 1;
      } catch (err) {
        failures.push(`echo ${i}: ${errorMessage(err)}`);
        if (!socket.usable) break;
      }
    }
    const end = steadyFrom.t + p.steadyS * 1000;
    if (monoMs() < end) await sleep(end - monoMs());
    const steady = { ms: monoMs() - steadyFrom.t, cpuMs: cpuOf(edge.pids) - steadyFrom.cpu, messagesEachWay: messages, bytes: messages * 2 * p.payloadBytes, failures };
    // The hubs read after setup are read again, even if the session's legs no longer name them.
    const activityAfterSteady = await readActivity(edge.url, edge.adminToken, sk, activityAfterSetup.ok ? activityAfterSetup.hubIsolates : []);
    return { sk, idle, setup, steady, activityAfterSetup, activityAfterSteady };
  } finally {
    await socket?.close();
    agent.destroy();
  }
}
