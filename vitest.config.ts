import { defineConfig } from "vitest/config";

// One real redis-server for the whole run is started by test/helpers/global-setup.ts;
// tests that must stop or restart Redis start their own with startRedisServer().
export default defineConfig({
  test: {
    include: ["apps/*/src/**/*.test.ts", "packages/*/src/**/*.test.ts", "test/**/*.test.ts", "bench/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // 2 cores: more parallel files only make process-timing tests flaky.
    maxWorkers: 2,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
