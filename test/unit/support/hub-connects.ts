/**
 * The isolate link reaches its hub only through `env.ISOLATE_HUBS`: tests that must see or
 * fail its connects hand it this wrapper around the real namespace. `connect` is called
 * for every connect with its number (1 for the first) and the real connect to run or not.
 */
import { env } from "cloudflare:workers";

export function hubConnects(connect: (n: number, real: () => Promise<Response>) => Promise<Response>): Env {
  const real = env.ISOLATE_HUBS as unknown as DurableObjectNamespace;
  let n = 0;
  const hubs = {
    idFromName: (name: string) => real.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = real.get(id);
      return { fetch: (input: RequestInfo, init?: RequestInit) => connect(++n, () => stub.fetch(input, init)) };
    },
  };
  return { ...env, ISOLATE_HUBS: hubs } as unknown as Env;
}
