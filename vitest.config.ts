import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration and end-to-end suites start real PostgreSQL servers and HTTP processes;
    // separate processes keep one suite's failure from leaking servers into another.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more than two suites of real servers at once only adds noise.
    maxWorkers: 2,
  },
});
