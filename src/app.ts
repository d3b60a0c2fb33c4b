/**
 * The HTTP surface, the composition root: it mounts the routes of each
 * feature folder, and one error handler turns every failure into
 * `{ "error": { "code", "message" } }`. Nothing imports it but the Worker's
 * entry (src/index.ts), so the helpers the routes share (src/http/) never
 * import a feature back.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { consoleRoutes } from "./admin/routes";
import { deviceTokenRoutes } from "./devices/device-tokens";
import { deviceRoutes } from "./devices/routes";
import { RateLimitedError, RelayError } from "./errors";
import { log } from "./log";
import { quarantineRoutes } from "./ops/quarantine";
import { opsRoutes } from "./ops/routes";
import { webhookRoutes } from "./webhook/route";
import { requireAccess } from "./http/access";

export const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", (c) => c.json({ status: "ok" }));

app.route("/", webhookRoutes);
app.use("/v1/*", requireAccess);
app.route("/v1", deviceRoutes);
app.route("/v1", deviceTokenRoutes);
app.route("/v1", opsRoutes);
app.route("/v1", quarantineRoutes);
app.route("/admin", consoleRoutes);

app.notFound((c) => errorResponse(c, new RelayError("not_found", 404, `no route for ${c.req.method} ${c.req.path}`)));

app.onError((error, c) => {
  const known = error instanceof RelayError;
  const relayError = known ? error : new RelayError("internal_error", 500, "internal error", { cause: error });
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
  if (!known) log("internal_error", { path: c.req.path, error: String(error) }, "error");
  return errorResponse(c, relayError);
});

function errorResponse(c: Context, error: RelayError): Response {
  const body: { code: string; message: string; field?: string } = { code: error.code, message: error.message };
  if (error.field) body.field = error.field;
  if (error instanceof RateLimitedError) c.header("retry-after", String(error.retryAfterSeconds));
  return c.json({ error: body }, error.status);
}
