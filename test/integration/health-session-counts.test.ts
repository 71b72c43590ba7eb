/**
 * Issue 16 F3, the count side: the edge's count of an origin's sessions must follow
 * reality. Sessions opened and then gone at the origin (their clients left; the origin
 * expired them) must not keep new sessions out until their tokens expire: placement
 * reconciles the edge's own count (the registry, which still lists them) with the count
 * the origin reports, and admits new S requests again promptly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

const CAPACITY = 5;
let stack: RunningStack;

interface OriginView {
  sessions: number;
  reportedSessions: number | null;
  capacity: number;
}

async function view(): Promise<OriginView | undefined> {
  const res = await fetch(`${stack.edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  return ((await res.json()) as { pools: Array<{ origins: OriginView[] }> }).pools[0]?.origins[0];
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  return withTimeout(
    (async () => {
      for (;;) {
        const v = await probe();
        if (v !== undefined) return v;
        await new Promise((r) => setTimeout(r, 250));
      }
    })(),
    ms,
    what,
  );
}

async function createSession(): Promise<number> {
  const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
  await res.text();
  return res.status;
}

beforeAll(async () => {
  stack = await testStack({
    originCount: 1,
    // The origin holds at most CAPACITY sessions and forgets one unattended for a second.
    originArgs: ["--capacity", String(CAPACITY), "--session-idle-ms", "1000"],
    poolSettings: { health: { intervalMs: 500, timeoutMs: 400, rise: 1, fall: 1 }, slowStartSeconds: 0 },
  });
});

afterAll(async () => {
  await stack?.close();
});

describe("the edge's session count follows the origin's", () => {
  it("admits new sessions again soon after the origin's sessions are gone, though the edge still lists them", async () => {
    for (let i = 0; i < CAPACITY; i++) expect(await createSession()).toBe(201);
    await until(async () => ((await view())?.sessions === CAPACITY ? true : undefined), "the edge to count the sessions");
    // Full: the next S is refused (by the edge's count, or by the origin itself).
    expect(await createSession()).toBe(503);

    // The clients never come back; the origin expires their sessions and says so.
    const originUrl = stack.origins[0]?.url ?? "";
    await until(async () => (((await (await fetch(`${originUrl}/health`)).json()) as { sessions: number }).sessions === 0 ? true : undefined), "the origin to expire them");

    // The edge admits again within a few health rounds, long before any token expires.
    await until(async () => ((await createSession()) === 201 ? true : undefined), "a new session admitted", 10_000);
    // Its registry still lists the gone sessions (their objects have not ended): the pool
    // view shows both counts, and placement went by the origin's.
    const after = await view();
    expect(after?.sessions).toBeGreaterThanOrEqual(CAPACITY);
    expect(after?.reportedSessions).toBeLessThan(CAPACITY);
  });
});
