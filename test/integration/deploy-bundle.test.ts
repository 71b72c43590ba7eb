/** The deploy path works offline: `wrangler deploy --dry-run` bundles the Worker. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildEdge } from "../../infra/local/edge.ts";

describe("wrangler deploy --dry-run", () => {
  it("builds the edge bundle with its Durable Object class", async () => {
    const outdir = await mkdtemp(join(tmpdir(), "push-edge-bundle-"));
    try {
      await buildEdge(outdir);
      const bundle = await readFile(join(outdir, "index.js"), "utf8");
      expect(bundle).toMatch(/export\s*\{[^}]*\bSessionObject\b/);
      expect(bundle.length).toBeGreaterThan(10_000);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  });
});
