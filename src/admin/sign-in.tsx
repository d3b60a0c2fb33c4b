/**
 * The console's own sign-in, for relays without Cloudflare Access: a form
 * that takes an admin key (`RELAY_API_KEY`, checked like the API's bearer
 * key) and opens a session; and sign-out. Behind Access both hand over to
 * Access instead.
 */
import { Hono } from "hono";
import { isAdminKey } from "../http/credentials";
import { countAuthFailure, refuseBlockedClient } from "../http/rate-limits";
import { log } from "../log";
import { accessConfigured } from "./access";
import { safeNext } from "./auth";
import type { ConsoleEnv } from "./console-env";
import { CSRF_FIELD, csrfToken, requireCsrf } from "./csrf";
import { renderPage } from "./layout";
import { endSession, readSession, startSession } from "./session";

export const signInRoutes = new Hono<ConsoleEnv>();

function LoginForm({ csrf, next, error }: { csrf: string; next: string; error?: string }) {
  return (
    <div class="login">
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form method="post" action="/admin/login">
        <input type="hidden" name={CSRF_FIELD} value={csrf} />
        <input type="hidden" name="next" value={next} />
        <label for="key">Admin key (RELAY_API_KEY)</label>
        <input id="key" name="key" type="password" autocomplete="current-password" required autofocus />
        <button class="primary" type="submit">
          Sign in
        </button>
      </form>
      <p class="muted">The session lasts 8 hours. Register keys and device tokens cannot sign in here.</p>
    </div>
  );
}

signInRoutes.get("/login", async (c) => {
  const next = safeNext(c.req.query("next"));
  if (accessConfigured(c.env) || (await readSession(c)) !== null) return c.redirect(next, 303);
  return renderPage(c, { title: "Sign in" }, <LoginForm csrf={csrfToken(c)} next={next} />);
});

signInRoutes.post("/login", requireCsrf, async (c) => {
  if (accessConfigured(c.env)) return c.redirect("/admin", 303);
  // The same failed-authentication limit per address as the API's bearer keys.
  refuseBlockedClient(c.req.raw);
  const form = await c.req.parseBody();
  const next = safeNext(typeof form.next === "string" ? form.next : undefined);
  const key = typeof form.key === "string" ? form.key.trim() : "";
  if (key === "" || !(await isAdminKey(key, c.env))) {
    log("console", { action: "sign_in", ok: false }, "warn");
    await countAuthFailure(c.env, c.req.raw);
    const error = "That is not an admin key of this relay.";
    return renderPage(c, { title: "Sign in" }, <LoginForm csrf={csrfToken(c)} next={next} error={error} />, 401);
  }
  await startSession(c, key);
  log("console", { action: "sign_in", ok: true });
  return c.redirect(next, 303);
});

signInRoutes.post("/logout", requireCsrf, (c) => {
  endSession(c);
  return c.redirect(accessConfigured(c.env) ? "/cdn-cgi/access/logout" : "/admin/login", 303);
});
