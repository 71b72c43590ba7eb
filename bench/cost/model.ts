/**
 * From one measured reference session to one reference session-hour, and to dollars.
 *
 * Measured (reference-session.ts): the requests the client made, workerd's CPU per phase
 * and over an idle spell, the session object's counts (admin view), the bytes moved.
 * Modelled here, and only here: the steady phase is scaled to an hour (× 3,600 s / its
 * length); the one-time part (S, WebSocket open, CR requests) counts once, as it happens
 * once in a reference hour; prices come from prices.ts; fixed fees of a balancer are
 * shared over a fleet of FLEET_SESSIONS concurrent sessions. What the admin reads added to
 * the objects' counts (activity.ts: `own`) is taken out before anything is scaled.
 */
import { minus, type Activity, type ActivityRead, type Counted } from "./activity.ts";
import { ALB_LCU, CF_LB_MAX_DNS_QUERIES_PER_CLIENT_HOUR, HOURS_PER_MONTH, OBJECT_GB, PRICES, WS_MESSAGES_PER_OBJECT_REQUEST } from "./prices.ts";
import type { ReferenceRun } from "./reference-session.ts";

/** The fleet: fixed fees (a balancer's hourly or monthly charge) are shared over this many concurrent sessions. */
export const FLEET_SESSIONS = 10_000;

export interface ObjectHour {
  readonly wakes: number;
  readonly awakeS: number;
  readonly gbS: number;
  /** Requests as counted (HTTP, RPC, alarms). */
  readonly requests: number;
  readonly webSocketMessages: number;
  /** requests + webSocketMessages / 20: what Cloudflare bills. */
  readonly billedRequests: number;
  /** Whether the hub's (control-path object's) counts are included. */
  readonly withHub: boolean;
}

export interface SessionHour {
  readonly workerRequests: number;
  /** All of workerd's CPU during the session: the Worker, every object, the runtime. An upper bound. */
  readonly workerCpuMsUpper: number;
  /** The same minus workerd's idle CPU rate over the same time (its background work). */
  readonly workerCpuMsNet: number;
  readonly messagesEachWay: number;
  readonly bytes: number;
  readonly connections: number;
  /** undefined: the edge reports no object counts (`objectsMissing` says why). */
  readonly objects: ObjectHour | undefined;
  readonly objectsMissing: string | undefined;
}

export interface Dollars {
  readonly workerRequests: number;
  readonly workerCpuUpper: number;
  readonly workerCpuNet: number;
  readonly objectRequests: number | undefined;
  readonly objectDuration: number | undefined;
  /** Workers (net CPU) + Durable Objects; undefined when the object counts are missing. */
  readonly total: number | undefined;
  /** The same with the upper-bound CPU. */
  readonly totalUpper: number | undefined;
  readonly alb: { readonly lcu: number; readonly usage: number; readonly fixedShare: number; readonly total: number };
  readonly cfLoadBalancing: { readonly dnsQueries: number; readonly usage: number; readonly fixedShare: number; readonly total: number };
}

function plus(a: Activity, b: Activity, k: number): Activity {
  return { wakes: a.wakes + b.wakes * k, activeMs: a.activeMs + b.activeMs * k, requests: a.requests + b.requests * k, webSocketMessages: a.webSocketMessages + b.webSocketMessages * k };
}

/**
 * One object's hour from its counts after setup (`a`) and after the steady phase (`b`),
 * without what the two reads themselves added: the one-time part is a − a.own, the steady
 * part b − b.own − a (b's totals include a's read, which the one-time part already left out).
 */
function hourOf(a: Counted, b: Counted, k: number): Activity {
  let steady = minus(minus(b.totals, b.own), a.totals);
  // An object wakes only for a request, a socket message or a close. With none of them in
  // the steady part, a wake there is the second read's own (a hub keeps no event log to say so).
  if (steady.requests === 0 && steady.webSocketMessages === 0 && steady.wakes > 0 && b.own.wakes === 0) steady = { ...steady, wakes: steady.wakes - 1 };
  return plus(minus(a.totals, a.own), steady, k);
}

function objectHour(after: ActivityRead, end: ActivityRead, k: number): ObjectHour | string {
  if (!after.ok) return after.reason;
  if (!end.ok) return end.reason;
  let total = hourOf(after.session, end.session, k);
  // The hub serves every session of its isolate; in this run there is one, so all it did is this session's.
  const withHub = after.hub !== undefined && end.hub !== undefined;
  if (after.hub !== undefined && end.hub !== undefined) total = plus(total, hourOf(after.hub, end.hub, k), 1);
  const awakeS = total.activeMs / 1000;
  return {
    wakes: total.wakes,
    awakeS,
    gbS: awakeS * OBJECT_GB,
    requests: total.requests,
    webSocketMessages: total.webSocketMessages,
    billedRequests: total.requests + total.webSocketMessages / WS_MESSAGES_PER_OBJECT_REQUEST,
    withHub,
  };
}

export function sessionHour(run: ReferenceRun): SessionHour {
  const steadyS = run.steady.ms / 1000;
  if (steadyS <= 0) throw new RangeError("the steady phase has no length");
  const k = 3600 / steadyS;
  const idleRate = run.idle.ms > 0 ? run.idle.cpuMs / run.idle.ms : 0;
  const net = (phase: { ms: number; cpuMs: number }): number => Math.max(0, phase.cpuMs - idleRate * phase.ms);
  const objects = objectHour(run.activityAfterSetup, run.activityAfterSteady, k);
  return {
    workerRequests: run.setup.workerRequests,
    workerCpuMsUpper: run.setup.cpuMs + run.steady.cpuMs * k,
    workerCpuMsNet: net(run.setup) + net(run.steady) * k,
    messagesEachWay: run.steady.messagesEachWay * k,
    bytes: run.setup.bytes + run.steady.bytes * k,
    // Every request on a connection of its own: an upper bound (the client keeps its CR connection alive).
    connections: run.setup.workerRequests,
    objects: typeof objects === "string" ? undefined : objects,
    objectsMissing: typeof objects === "string" ? objects : undefined,
  };
}

export function dollars(h: SessionHour, originCount: number): Dollars {
  const workerRequests = h.workerRequests * PRICES.workerRequest.usd;
  const workerCpuUpper = h.workerCpuMsUpper * PRICES.workerCpuMs.usd;
  const workerCpuNet = h.workerCpuMsNet * PRICES.workerCpuMs.usd;
  const objectRequests = h.objects === undefined ? undefined : h.objects.billedRequests * PRICES.objectRequest.usd;
  const objectDuration = h.objects === undefined ? undefined : h.objects.gbS * PRICES.objectGbS.usd;
  const objectsTotal = objectRequests === undefined || objectDuration === undefined ? undefined : objectRequests + objectDuration;

  // ALB: the highest of the LCU dimensions for the hour; one connection held through every minute.
  const lcu = Math.max(h.connections / 3600 / ALB_LCU.newConnectionsPerSecond, 1 / ALB_LCU.activeConnectionsPerMinute, h.bytes / 1e9 / ALB_LCU.gbPerHour);
  const albUsage = lcu * PRICES.albLcuHour.usd;
  const albFixed = PRICES.albHour.usd / FLEET_SESSIONS;

  // Cloudflare Load Balancing bills DNS queries; a client resolves at most once per connection and per TTL.
  const dnsQueries = Math.min(h.connections, CF_LB_MAX_DNS_QUERIES_PER_CLIENT_HOUR);
  const lbUsage = dnsQueries * PRICES.cfLbDnsQuery.usd;
  const lbMonth = PRICES.cfLbMonth.usd + Math.max(0, originCount - 2) * PRICES.cfLbEndpointMonth.usd;
  const lbFixed = lbMonth / HOURS_PER_MONTH / FLEET_SESSIONS;

  return {
    workerRequests,
    workerCpuUpper,
    workerCpuNet,
    objectRequests,
    objectDuration,
    total: objectsTotal === undefined ? undefined : workerRequests + workerCpuNet + objectsTotal,
    totalUpper: objectsTotal === undefined ? undefined : workerRequests + workerCpuUpper + objectsTotal,
    alb: { lcu, usage: albUsage, fixedShare: albFixed, total: albUsage + albFixed },
    cfLoadBalancing: { dnsQueries, usage: lbUsage, fixedShare: lbFixed, total: lbUsage + lbFixed },
  };
}
