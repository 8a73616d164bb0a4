import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: [
      "*/src/**/*.test.ts",
      "conformance/src/**/*.test.ts",
      "conformance/guests/**/*.test.ts",
      "bench/**/*.test.ts",
    ],
    setupFiles: ["./vitest.setup.ts"],
    pool: "threads",
    testTimeout: 60_000,
  },
});
