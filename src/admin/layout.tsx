/**
 * The frame of every console page: navigation, who is signed in, sign-out,
 * and the inline stylesheet. Plain HTML that reads on a phone; no script.
 */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { RelayError } from "../errors";
import type { ConsoleEnv, ConsoleUser } from "./console-env";
import { CSRF_FIELD, csrfToken } from "./csrf";
import { FAVICON_PATH } from "./favicon";
import { CSS } from "./style";

const NAV = [
  { href: "/admin", label: "Overview" },
  { href: "/admin/events", label: "Events" },
  { href: "/admin/users", label: "Users" },
  { href: "/admin/failures", label: "Failures" },
] as const;

export type NavTarget = (typeof NAV)[number]["href"];

/** The hidden CSRF field for a form on this page. */
export const CsrfField = ({ token }: { token: string }) => <input type="hidden" name={CSRF_FIELD} value={token} />;

function Who({ user, csrf }: { user: ConsoleUser; csrf: string }) {
  if (user.kind === "access") {
    return (
      <span class="who">
        {user.email ?? user.subject} (Cloudflare Access) · <a href="/cdn-cgi/access/logout">Sign out</a>
      </span>
    );
  }
  return (
    <span class="who">
      Admin key, until {new Date(user.expiresAt).toISOString().slice(11, 16)} UTC{" "}
      <form class="inline" method="post" action="/admin/logout">
        <CsrfField token={csrf} />
        <button type="submit">Sign out</button>
      </form>
    </span>
  );
}

interface Frame {
  title: string;
  /** The signed-in operator; absent on the sign-in page. */
  user?: ConsoleUser;
  csrf?: string;
  current?: NavTarget;
  /** Reload the page after this many seconds (a page following work in flight); no script needed. */
  refreshSeconds?: number | undefined;
  children?: Child;
}

function Page({ title, user, csrf, current, refreshSeconds, children }: Frame) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {refreshSeconds !== undefined && <meta http-equiv="refresh" content={String(refreshSeconds)} />}
        <link rel="icon" type="image/svg+xml" href={FAVICON_PATH} />
        <title>{title} · Push relay console</title>
        <style dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        <header>
          <span class="brand">Push relay</span>
          {user && (
            <nav>
              {NAV.map((item) => (
                <a href={item.href} aria-current={item.href === current ? "page" : undefined}>
                  {item.label}
                </a>
              ))}
            </nav>
          )}
          {user && csrf !== undefined && <Who user={user} csrf={csrf} />}
        </header>
        <main>
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}

/** Answers with a full console page for the signed-in operator. */
export async function renderPage(
  c: Context<ConsoleEnv>,
  frame: { title: string; current?: NavTarget; refreshSeconds?: number | undefined },
  body: Child,
  status: 200 | RelayError["status"] = 200,
): Promise<Response> {
  const user = c.get("user") as ConsoleUser | undefined;
  const page = <Page {...frame} user={user} csrf={user ? csrfToken(c) : undefined}>{body}</Page>;
  return c.html(`<!DOCTYPE html>${await page.toString()}`, status);
}
