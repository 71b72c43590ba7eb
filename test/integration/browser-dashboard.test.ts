/**
 * The dashboard in a real browser: headless Debian Chromium (playwright-core) opens
 * /_edge/dashboard on the local stack while a fleet of WebSocket clients holds sessions,
 * signs in with the admin token, sees the three origins live, types a rate and clicks
 * Drain on the busiest one — and the page shows its sessions fall to zero while the other
 * two rise, as the fleet reconnects through the edge. It also looks sessions up by
 * affinity token and by the origin's own session id. A screenshot lands in test/artifacts/ (not committed).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { Fleet } from "../../infra/local/session-fleet.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { testStack } from "./support/stack.ts";
import { CHROMIUM as CHROMIUM_PACKAGE, missingMessage } from "../../tools/setup/requirements.ts";

const CHROMIUM = CHROMIUM_PACKAGE.binary;
const ARTIFACTS = join(REPO_ROOT, "test", "artifacts");
const FLEET_SIZE = 36;
/**
 * Slow enough that the drained clients come back a few at a time. Sessions ended in one
 * burst reconnect at once, and concurrent S requests in one isolate all see the same loads
 * (a placement counts only once its session exists), so with two origins left a burst
 * goes wholly to the less loaded one.
 */
const DRAIN_RATE = 1;
const ORIGINS = ["o1", "o2", "o3"];

let stack: RunningStack;
let browser: Browser;
let fleet: Fleet;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(missingMessage(CHROMIUM_PACKAGE));
  // No slow start: the stack is seconds old when the drain starts, and an origin still
  // ramping up (whose first checks came last) would be passed over for the others' sessions.
  // No rebalancing either: only the drain moves sessions here.
  stack = await testStack({ originCount: 3, poolSettings: { slowStartSeconds: 0, rebalance: { enabled: false } } });
  fleet = new Fleet(stack.edgeUrl);
  await fleet.open(FLEET_SIZE, 6);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
});
afterAll(async () => {
  await browser?.close();
  await fleet?.close();
  await stack?.close();
});

/** Sessions per origin as the page shows them: the edge's count (the origin's own report, shown beside it, may lag). */
async function shown(page: Page): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const rows = page.locator("tr[data-origin]");
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    out[(await row.getAttribute("data-origin")) ?? ""] = Number(await row.locator(".sessions .count").textContent());
  }
  return out;
}

/** Polls the page (bounded) until `check` holds for what it shows. */
async function until(page: Page, check: (counts: Record<string, number>) => boolean, ms: number, what: string): Promise<Record<string, number>> {
  const deadline = Date.now() + ms;
  let last: Record<string, number> = {};
  while (Date.now() < deadline) {
    last = await shown(page);
    if (check(last)) return last;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; the page showed ${JSON.stringify(last)}`);
}

describe("dashboard in Chromium", () => {
  it("shows three origins live; Drain empties one and the others take its sessions", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const failures: string[] = [];
    page.on("pageerror", (err) => failures.push(err.message));
    try {
      await page.goto(`${stack.edgeUrl}/_edge/dashboard`);
      await page.fill("#token", stack.adminToken);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("tr[data-origin]", { timeout: 15_000 });
      expect(await page.textContent("#status")).toContain("live");

      // The coordinator counts sessions on its health interval: wait until it has all of them.
      const before = await until(page, (c) => ORIGINS.every((o) => (c[o] ?? 0) > 0) && ORIGINS.reduce((n, o) => n + (c[o] ?? 0), 0) === FLEET_SIZE, 20_000, "the fleet's sessions on three origins");
      expect(Object.keys(before).sort()).toEqual(ORIGINS);
      const busiest = [...ORIGINS].sort((a, b) => (before[b] ?? 0) - (before[a] ?? 0))[0] ?? "o1";
      const others = ORIGINS.filter((o) => o !== busiest);

      const row = page.locator(`tr[data-origin="${busiest}"]`);
      await row.locator("input.rate").fill(String(DRAIN_RATE));
      await row.locator('button[data-action="drain"]').click();

      const after = await until(
        page,
        (c) => c[busiest] === 0 && others.every((o) => (c[o] ?? 0) > (before[o] ?? 0)) && others.reduce((n, o) => n + (c[o] ?? 0), 0) === FLEET_SIZE,
        45_000,
        `${busiest}'s sessions to move to ${others.join(" and ")}`,
      );
      expect(after[busiest]).toBe(0);
      await expect.poll(() => row.locator(".state").textContent()).toContain("draining");
      expect(await row.locator(".drain-progress").textContent()).toContain(`@ ${DRAIN_RATE}/s`);
      // The clients agree: nobody is left on the drained origin.
      expect(fleet.counts().get(busiest) ?? 0).toBe(0);
      // The chart has a line per origin.
      expect(await page.locator("svg.chart path[data-origin]").count()).toBe(3);

      // Session lookup by a client's affinity token (the page reads its session key).
      const member = fleet.members.find((m) => m.socket !== undefined && m.origins.at(-1) === others[0]);
      if (member === undefined) throw new Error("no client on a surviving origin");
      await page.fill("#lookup-key", member.token);
      await page.click("#lookup-form button[type=submit]");
      await page.waitForSelector("#lookup-events", { timeout: 10_000 });
      expect(await page.textContent("#lookup-record")).toContain(others[0] ?? "");
      expect(await page.textContent("#lookup-events")).toContain("created");

      // ... and by the origin's own id for a session (the reference origin's X-Session-Id).
      const created = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
      const byOrigin = (await created.json()) as { id: string; origin: string };
      await page.fill("#lookup-key", byOrigin.id);
      await page.click("#lookup-form button[type=submit]");
      await expect.poll(() => page.textContent("#lookup-record"), { timeout: 10_000 }).toContain(byOrigin.id);
      expect(await page.textContent("#lookup-record")).toContain(byOrigin.origin);

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });
      expect(failures).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
