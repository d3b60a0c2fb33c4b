import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** The stand-in OAuth/FCM/APNs server (test/setup/global-setup.ts); control API under /__standin/. */
      STANDIN_URL: string;
    }
  }
}
