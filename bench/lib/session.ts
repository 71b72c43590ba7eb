/**
 * The generic protocol's S request through any target: `POST /session` → 201 {id, origin},
 * plus whatever the target says CR requests of that session must carry.
 */
import type { Agent } from "node:http";
import type { Affinity, Target } from "../targets/target.ts";
import { httpRequest } from "./http.ts";
import { errorMessage } from "./time.ts";

export interface SessionRef {
  readonly id: string;
  readonly origin: string;
  readonly affinity: Affinity;
}

export type CreateResult = { ok: true; session: SessionRef } | { ok: false; reason: string };

export async function createSession(target: Target, agent: Agent, timeoutMs: number): Promise<CreateResult> {
  const base = target.nextBase();
  const requestHeaders = target.createHeaders?.() ?? {};
  let res;
  try {
    res = await httpRequest(`${base}/session`, { method: "POST", headers: { ...requestHeaders }, agent, timeoutMs });
  } catch (err) {
    return { ok: false, reason: `POST /session: ${errorMessage(err)}` };
  }
  if (res.status !== 201) return { ok: false, reason: `POST /session: HTTP ${res.status} ${res.body.slice(0, 120)}` };
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return { ok: false, reason: "POST /session: body is not JSON" };
  }
  const id = field(body, "id");
  const origin = field(body, "origin");
  if (id === undefined || origin === undefined) return { ok: false, reason: "POST /session: body lacks id/origin" };
  const affinity = target.affinity({ base, status: res.status, headers: res.headers, requestHeaders });
  if (typeof affinity === "string") return { ok: false, reason: affinity };
  return { ok: true, session: { id, origin, affinity } };
}

function field(body: unknown, name: string): string | undefined {
  if (typeof body !== "object" || body === null || !(name in body)) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}
