/**
 * The HTTP surface, the composition root: it mounts the routes of each
 * feature folder, and one error handler turns every failure into
 * `{ "error": { "code", "message" } }`. Nothing imports it but the Worker's
 * entry (src/index.ts), so the helpers the routes share (src/http/) never
 * import a feature back.
 */
import { Hono } from "hono";
import { consoleRoutes } from "./admin/routes";
import { deviceTokenRoutes } from "./devices/device-tokens";
import { deviceRoutes } from "./devices/routes";
import { requireAccess } from "./http/access";
import { limitBody } from "./http/body-limit";
import { asRelayError, errorResponse, logHidden } from "./http/errors";
import { routePatterns, unservedRoute } from "./http/routes";
import { serverTiming } from "./http/server-timing";
import { log } from "./log";
import { openApiRoutes } from "./openapi/route";
import { checkRoutes } from "./ops/check";
import { opensRoutes } from "./ops/opens";
import { quarantineRoutes } from "./ops/quarantine";
import { opsRoutes } from "./ops/routes";
import { webhookRoutes } from "./webhook/route";

export const app = new Hono<{ Bindings: Env }>();

app.use("*", limitBody);
app.get("/healthz", (c) => c.json({ status: "ok" }));

app.route("/", webhookRoutes);
// What each request cost D1, for the operators' reads (not the webhook's path).
app.use("/v1/*", serverTiming);
app.use("/admin/*", serverTiming);
// Before the access check: the API's description needs no credential.
app.route("/v1", openApiRoutes);
app.use("/v1/*", requireAccess);
app.route("/v1", deviceRoutes);
app.route("/v1", deviceTokenRoutes);
app.route("/v1", opsRoutes);
app.route("/v1", opensRoutes);
app.route("/v1", quarantineRoutes);
app.route("/v1", checkRoutes);
app.route("/admin", consoleRoutes);

/** Read once, after every route above is mounted. */
let patterns: ReturnType<typeof routePatterns> | undefined;

app.notFound((c) => {
  patterns ??= routePatterns(app.routes);
  return errorResponse(c, unservedRoute(patterns, c.req.method, c.req.path));
});

app.onError((error, c) => {
  const relayError = asRelayError(error);
  if (c.req.path.startsWith("/webhooks/")) {
    log(
      "webhook_rejected",
      {
        svix_id: (c.req.header("svix-id") ?? c.req.header("webhook-id"))?.slice(0, 128) ?? null,
        status: relayError.status,
        code: relayError.code,
        reason: relayError.message,
      },
      relayError.status >= 500 ? "error" : "warn",
    );
  }
  logHidden(error, c.req.routePath);
  return errorResponse(c, relayError);
});
