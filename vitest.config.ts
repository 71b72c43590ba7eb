import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects: `unit` runs Worker and Durable Object code inside workerd;
// `integration` runs in Node and starts real processes (edge in workerd, origins, clients).
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
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
