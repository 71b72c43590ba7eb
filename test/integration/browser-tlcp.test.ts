/**
 * TLCP in a real browser: the Lightstreamer web client (lightstreamer-client-web) on the
 * local stack's demo page, in headless Debian Chromium driven by playwright-core, receives
 * clock updates through the edge. A screenshot lands in test/artifacts/ (not committed).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { testStack } from "./support/stack.ts";
import { CHROMIUM as CHROMIUM_PACKAGE, missingMessage } from "../../tools/setup/requirements.ts";

const CHROMIUM = CHROMIUM_PACKAGE.binary;
const ARTIFACTS = join(REPO_ROOT, "test", "artifacts");

let stack: RunningStack;
let browser: Browser;

beforeAll(async () => {
  // npm test's setup step installs Debian's chromium; without it this suite cannot run at all.
  if (!existsSync(CHROMIUM)) throw new Error(missingMessage(CHROMIUM_PACKAGE));
  stack = await testStack({ originCount: 3, demoPort: 0, originArgs: ["--tlcp-clock-ms", "100"] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe("Lightstreamer web client in Chromium", () => {
  it("receives consecutive clock updates from one origin through the edge", async () => {
    const demo = stack.demo;
    if (demo === undefined) throw new Error("the stack started no demo site");
    const page = await browser.newPage();
    try {
      await page.goto(demo.page(stack.edgeUrl));
      await page.waitForFunction(() => (globalThis as unknown as { lsUpdates: unknown[] }).lsUpdates.length >= 20, undefined, {
        timeout: 30_000,
      });
      const { updates, statuses } = await page.evaluate(() => {
        const w = globalThis as unknown as { lsUpdates: Array<{ seq: string; origin: string }>; lsStatuses: string[] };
        return { updates: w.lsUpdates.slice(0, 20), statuses: w.lsStatuses };
      });
      expect(statuses.some((s) => s.startsWith("CONNECTED:"))).toBe(true);
      const seqs = updates.map((u) => Number(u.seq));
      expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
      expect(new Set(updates.map((u) => u.origin)).size).toBe(1);
      expect(["o1", "o2", "o3"]).toContain(updates[0]?.origin);
      // The session id the page shows is the edge's token.
      expect(await page.textContent("#session")).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "browser-tlcp.png") });
    } finally {
      await page.close();
    }
  });
});
