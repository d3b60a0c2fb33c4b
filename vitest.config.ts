import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
// For the ProvidedContext keys the global setup declares (typed `inject`).
import type {} from "./test/setup/global-setup.ts";

/** Tests that drive the project from Node (processes, the CLI), outside workerd. */
const NODE_TESTS = ["test/e2e/**/*.test.ts"];

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    test: {
      // The Worker logs a JSON line per delivery: show them only for failing tests.
      silent: "passed-only" as const,
      projects: [
        {
          plugins: [
            // A function of `inject`: the stand-ins' URL is known only once the global setup has started them.
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  LEARNINK_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                  RELAY_API_KEY: "test-key-1 test-key-2",
                  RELAY_REGISTER_KEY: "test-register-key-1 test-register-key-2",
                  // Two secrets, as during a rotation: the first signs, both verify.
                  DEVICE_TOKEN_SECRET: "test-device-token-secret-one-0123456789 test-device-token-secret-two-0123456789",
                  LEARNINK_ORG_ID: "acme",
                  // Providers point at the stand-in OAuth, FCM and APNs servers (standins/).
                  STANDIN_URL: inject("standinUrl"),
                  ...inject("standinWorkerConfig"),
                },
              },
            })),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: NODE_TESTS,
            globalSetup: ["./test/setup/global-setup.ts"],
            setupFiles: ["./test/setup/apply-migrations.ts"],
          },
        },
        { test: { name: "node", include: NODE_TESTS, environment: "node" } },
      ],
    },
  };
});
