/**
 * Check settings: the overview's button and the page it posts to, which
 * runs the settings self-check (src/push/settings-check.ts, the same as
 * `POST /v1/check`) and shows each provider's answer per app: ok, or what
 * to fix. A POST with the CSRF token like every console form: the check
 * calls the providers, so a link or a prefetch must not start it.
 */
import { Hono } from "hono";
import { checkSettings } from "../../push/settings-check";
import type { ConsoleEnv } from "../console-env";
import { CsrfField, renderPage } from "../layout";

export const checkPage = new Hono<ConsoleEnv>();

/** The overview's button. */
export function CheckSettingsForm({ csrf }: { csrf: string }) {
  return (
    <form class="inline" method="post" action="/admin/check">
      <CsrfField token={csrf} />
      <button type="submit" class="primary">
        Check settings
      </button>{" "}
      <span class="muted">asks each configured provider, for every app, whether the relay's settings are accepted; nobody is notified.</span>
    </form>
  );
}

checkPage.post("/check", async (c) => {
  const report = await checkSettings(c.env);
  return renderPage(
    c,
    { title: "Settings check", current: "/admin" },
    <>
      {report.checks.length === 0 ? (
        <p class="notice">No provider is configured: there is nothing to check.</p>
      ) : report.ok ? (
        <p class="notice" role="status">Every configured provider accepts the settings of every app.</p>
      ) : (
        <p class="alarm" role="alert">Some settings are refused: what to fix is beside each.</p>
      )}
      <div class="scroll">
        <table class="checks">
          <thead>
            <tr>
              <th>app</th>
              <th>provider</th>
              <th>result</th>
              <th>detail</th>
            </tr>
          </thead>
          <tbody>
            {report.checks.map((line) => (
              <tr data-provider={line.provider} data-app={line.app} data-ok={String(line.ok)}>
                <td>{line.app}</td>
                <td>{line.provider}</td>
                <td class={`status ${line.ok ? "s-sent" : "s-failed"}`}>{line.ok ? "ok" : "refused"}</td>
                <td class="text">{line.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>
        <a href="/admin">Back to the overview</a>
      </p>
    </>,
  );
});
