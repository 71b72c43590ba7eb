/** The session object for a session key (the token's `sk`). */
import type { SessionObject } from "./session-object.ts";

export function sessionStub(env: Env, sk: string): DurableObjectStub<SessionObject> {
  // `wrangler types` leaves the binding untyped; the class is ours, so the cast is sound.
  const ns = env.SESSIONS as unknown as DurableObjectNamespace<SessionObject>;
  return ns.get(ns.idFromName(sk));
}
