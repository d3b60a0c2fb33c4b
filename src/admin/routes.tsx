/**
 * The operations console under `/admin`: server-rendered pages for
 * operators. Every answer carries the security headers; sign-in and
 * sign-out come first, then every other page requires a signed-in operator
 * and every form a CSRF token. Errors are pages, not JSON.
 */
import { Hono } from "hono";
import { NotFoundError, RateLimitedError, RelayError } from "../errors";
import { log } from "../log";
import type { ConsoleEnv } from "./console-env";
import { requireConsoleUser } from "./auth";
import { requireCsrf } from "./csrf";
import { consoleHeaders } from "./headers";
import { renderPage } from "./layout";
import { eventPages } from "./pages/events";
import { failurePages } from "./pages/failures";
import { overviewPage } from "./pages/overview";
import { quarantinePages } from "./pages/quarantine";
import { userPages } from "./pages/users";
import { signInRoutes } from "./sign-in";

export const consoleRoutes = new Hono<ConsoleEnv>();

consoleRoutes.use("*", consoleHeaders);
consoleRoutes.route("/", signInRoutes);
consoleRoutes.use("*", requireConsoleUser, requireCsrf);

consoleRoutes.route("/", overviewPage);
consoleRoutes.route("/", eventPages);
consoleRoutes.route("/", userPages);
consoleRoutes.route("/", failurePages);
consoleRoutes.route("/", quarantinePages);

consoleRoutes.all("*", (c) => {
  throw new NotFoundError(`no console page ${c.req.path}`);
});

consoleRoutes.onError((error, c) => {
  const known = error instanceof RelayError;
  if (!known) log("internal_error", { path: c.req.path, error: String(error) }, "error");
  const relayError = known ? error : new RelayError("internal_error", 500, "internal error", { cause: error });
  if (error instanceof RateLimitedError) c.header("retry-after", String(error.retryAfterSeconds));
  return renderPage(
    c,
    { title: relayError.status === 404 ? "Not found" : "Something went wrong" },
    <p class="error" role="alert" data-code={relayError.code}>
      {relayError.message} <span class="muted">({relayError.code})</span>
    </p>,
    relayError.status,
  );
});
