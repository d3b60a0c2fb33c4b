/**
 * The Worker: `fetch` serves the webhook and the API, `queue` delivers.
 */
import { app } from "./http/app";
import type { PushJob } from "./queue/message";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env, PushJob>;
