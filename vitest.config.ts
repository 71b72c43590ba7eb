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

// Two projects: `unit` runs Worker and Durable Object code inside workerd;
// `integration` runs in Node and starts real processes (edge in workerd, origins, clients).
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
    ],
  },
});
