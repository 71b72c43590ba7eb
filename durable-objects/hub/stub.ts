/** The hub of an edge isolate, by the isolate's id (workers/edge/legs/isolate-link.ts). */
import type { IsolateHub } from "./isolate-hub.ts";

export function hubStub(env: Env, isolate: string): DurableObjectStub<IsolateHub> {
  const ns = env.ISOLATE_HUBS as unknown as DurableObjectNamespace<IsolateHub>;
  return ns.get(ns.idFromName(isolate));
}
