/**
 * The operations console under `/admin`: server-rendered pages for
 * operators. Every answer carries the security headers; sign-in and
 * sign-out come first, then every other page requires a signed-in operator
 * and every form a CSRF token. Errors are pages, not JSON.
 */
import { Hono } from "hono";
import { asRelayError, logHidden, setErrorHeaders } from "../http/errors";
import { routePatterns, unservedRoute } from "../http/routes";
import type { ConsoleEnv } from "./console-env";
import { requireConsoleUser } from "./auth";
import { requireCsrf } from "./csrf";
import { favicon } from "./favicon";
import { consoleHeaders } from "./headers";
import { renderPage } from "./layout";
import { checkPage } from "./pages/check";
import { eventPages } from "./pages/events";
import { failurePages } from "./pages/failures";
import { overviewPage } from "./pages/overview";
import { quarantinePages } from "./pages/quarantine";
import { userPages } from "./pages/users";
import { signInRoutes } from "./sign-in";

export const consoleRoutes = new Hono<ConsoleEnv>();

consoleRoutes.use("*", consoleHeaders);
consoleRoutes.get("/favicon.svg", favicon);
consoleRoutes.route("/", signInRoutes);
consoleRoutes.use("*", requireConsoleUser, requireCsrf);

consoleRoutes.route("/", overviewPage);
consoleRoutes.route("/", eventPages);
consoleRoutes.route("/", userPages);
consoleRoutes.route("/", failurePages);
consoleRoutes.route("/", quarantinePages);
consoleRoutes.route("/", checkPage);

/** The console's own pages, read once when the first unknown page is asked for. */
let patterns: ReturnType<typeof routePatterns> | undefined;

// A known page under another method is a 405; neither says the path as sent.
consoleRoutes.all("*", (c) => {
  patterns ??= routePatterns(consoleRoutes.routes, "/admin");
  throw unservedRoute(patterns, c.req.method, c.req.path);
});

consoleRoutes.onError((error, c) => {
  logHidden(error, c.req.routePath);
  const relayError = asRelayError(error);
  setErrorHeaders(c, relayError);
  return renderPage(
    c,
    { title: relayError.status === 404 ? "Not found" : "Something went wrong" },
    <p class="error" role="alert" data-code={relayError.code}>
      {relayError.message} <span class="muted">({relayError.code})</span>
    </p>,
    relayError.status,
  );
});
