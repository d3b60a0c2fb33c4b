/**
 * The HTTP surface: routes from each feature folder, one error handler that
 * turns every failure into `{ "error": { "code", "message" } }`.
 */
import { Hono } from "hono";
import { consoleRoutes } from "../admin/routes";
import { deviceTokenRoutes } from "../devices/device-tokens";
import { deviceRoutes } from "../devices/routes";
import { log } from "../log";
import { openApiRoutes } from "../openapi/route";
import { quarantineRoutes } from "../ops/quarantine";
import { opensRoutes } from "../ops/opens";
import { opsRoutes } from "../ops/routes";
import { webhookRoutes } from "../webhook/route";
import { requireAccess } from "./access";
import { limitBody } from "./body-limit";
import { asRelayError, errorResponse, logHidden } from "./errors";
import { routePatterns, unservedRoute } from "./routes";

export const app = new Hono<{ Bindings: Env }>();

app.use("*", limitBody);
app.get("/healthz", (c) => c.json({ status: "ok" }));

app.route("/", webhookRoutes);
// Before the access check: the API's description needs no credential.
app.route("/v1", openApiRoutes);
app.use("/v1/*", requireAccess);
app.route("/v1", deviceRoutes);
app.route("/v1", deviceTokenRoutes);
app.route("/v1", opsRoutes);
app.route("/v1", opensRoutes);
app.route("/v1", quarantineRoutes);
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
