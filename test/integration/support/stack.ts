/**
 * The local stack for integration tests: on free ports, from the bundle global-setup
 * built, plus access to the origins' request logs.
 */
import { startStack, type RunningStack, type StackOptions } from "../../../infra/local/stack.ts";

export async function testStack(options: StackOptions = {}): Promise<RunningStack> {
  return startStack({ port: 0, originBasePort: 0, prebuilt: true, ...options });
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly client: string;
  readonly via: string;
  readonly websocket?: boolean;
}

/**
 * What reached each origin (their /_debug/requests rings, on each origin's admin listener).
 * `processes`: the reference origins behind the stack, when the test started them itself.
 */
export async function originRequests(
  stack: RunningStack,
  processes: ReadonlyArray<{ readonly id: string; readonly adminUrl: string | undefined }> = stack.processes,
): Promise<Map<string, LoggedRequest[]>> {
  const out = new Map<string, LoggedRequest[]>();
  for (const o of stack.origins) {
    const adminUrl = processes.find((p) => p.id === o.id)?.adminUrl;
    if (adminUrl === undefined) throw new Error(`origin ${o.id} has no admin listener`);
    const res = await fetch(`${adminUrl}/_debug/requests`);
    out.set(o.id, (await res.json()) as LoggedRequest[]);
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i] as T;
      results[i] = await fn(item, i);
    }
  });
  await Promise.all(workers);
  return results;
}
