import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const TEST_SECRETS = {
  AFFINITY_KEYS: JSON.stringify({
    "test-1": "dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWtleS1vbmU",
    "test-old": "b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleS1vbGQta2V5",
  }),
  AFFINITY_SIGNING_KID: "test-1",
  ADMIN_TOKEN: "test-admin-token",
};

/**
 * Property-based fuzzing (fast-check): `npm test` runs every property with a fixed seed and
 * its own run count; `npm run fuzz` sets FUZZ_RUNS (runs per property) and FUZZ_SEED (a
 * number, or "random" — the seed is printed on failure) for the same properties.
 */
const FUZZ = {
  runs: process.env.FUZZ_RUNS === undefined ? 0 : Number(process.env.FUZZ_RUNS),
  seed:
    process.env.FUZZ_SEED === undefined || process.env.FUZZ_SEED === ""
      ? 0
      : process.env.FUZZ_SEED === "random"
        ? Math.floor(Math.random() * 0x7fffffff)
        : Number(process.env.FUZZ_SEED),
};

// Three projects: `unit` runs Worker and Durable Object code inside workerd;
// `integration` runs in Node and starts real processes (edge in workerd, origins, clients);
// `fuzz-node` runs property-based fuzzing of the Node-side parsers (reference origin).
export default defineConfig({
  test: {
    reporters: ["default", "./test/reporters/summary.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // Test-only secrets; wrangler.toml's [vars] supply the rest.
            miniflare: { bindings: TEST_SECRETS },
          }),
        ],
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          provide: { fuzz: FUZZ },
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Integration files start their own processes on distinct ports; run them one
          // at a time so a 2-core machine is not oversubscribed.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "fuzz-node",
          include: ["test/fuzz/**/*.test.ts"],
          environment: "node",
          provide: { fuzz: FUZZ },
          testTimeout: 600_000,
        },
      },
    ],
  },
});
