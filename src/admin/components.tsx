/**
 * The small pieces every console page is made of: statuses, times,
 * shortened tokens, pagers, and the two-step confirmation that every
 * state-changing button goes through (a `<details>` that opens onto the
 * real POST form, so it needs no script).
 */
import type { Child } from "hono/jsx";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../db/ledger";
import { shortToken } from "../log";
import { CsrfField } from "./layout";

/** A delivery status, coloured. */
export const Status = ({ status }: { status: DeliveryStatus | "quarantined" }) => (
  <span class={`status s-${status}`}>{status.replace("_", " ")}</span>
);

/** `2026-11-25 03:04:05` (UTC), with the exact instant for machines. */
export function Time({ ms }: { ms: number | null }) {
  if (ms === null) return <span class="muted">—</span>;
  const iso = new Date(ms).toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 19)}`}</time>;
}

/** A device token the way the logs show it; never the whole token. */
export const Token = ({ token }: { token: string }) =>
  token === "" ? <span class="muted">no device</span> : <code class="token" title="last 6 characters">{shortToken(token)}</code>;

/** Counts by status as one line: `3 sent · 1 failed`. */
export function StatusCounts({ counts }: { counts: Partial<Record<DeliveryStatus, number>> }) {
  const entries = DELIVERY_STATUSES.filter((status) => (counts[status] ?? 0) > 0).map((status): [DeliveryStatus, number] => [status, counts[status]!]);
  if (entries.length === 0) return <span class="muted">none yet</span>;
  return (
    <span>
      {entries.map(([status, n], i) => (
        <>
          {i > 0 && " · "}
          {n.toLocaleString("en-US")} <Status status={status} />
        </>
      ))}
    </span>
  );
}

/** A link to the next (older) page, and back to the first, keeping the page's other parameters. */
export function Pager({ path, params, cursorName = "cursor", next }: { path: string; params: Record<string, string | undefined>; cursorName?: string; next: string | null }) {
  const href = (cursor: string | undefined) => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...params, [cursorName]: cursor })) if (value) query.set(name, value);
    const text = query.toString();
    return text ? `${path}?${text}` : path;
  };
  const onFirstPage = !params[cursorName];
  if (onFirstPage && next === null) return null;
  return (
    <nav class="pager" aria-label="pages">
      {!onFirstPage && <a href={href(undefined)}>← Newest</a>}
      {next !== null && <a href={href(next)}>Older →</a>}
    </nav>
  );
}

/**
 * A state-changing button: the summary opens a short question and the real
 * button, which POSTs the form with the page's CSRF token.
 */
export function Confirm(props: {
  action: string;
  label: string;
  question: Child;
  confirm: string;
  csrf: string;
  danger?: boolean;
  /** Hidden fields the POST carries besides the CSRF token. */
  fields?: Record<string, string>;
}) {
  return (
    <details class="confirm">
      <summary>{props.label}</summary>
      <form method="post" action={props.action}>
        <p>{props.question}</p>
        <CsrfField token={props.csrf} />
        {Object.entries(props.fields ?? {}).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit" class={props.danger ? "danger" : "primary"}>
          {props.confirm}
        </button>
      </form>
    </details>
  );
}

/** Who a notification was for: the company's custom_id, else LearnInk's user_id, linked to the user page. */
export function Recipient({ customId, userId }: { customId: string | null; userId: string | null }) {
  if (customId !== null) return <a href={`/admin/users?by=custom_id&id=${encodeURIComponent(customId)}`}>{customId}</a>;
  if (userId !== null) {
    return (
      <a href={`/admin/users?by=user_id&id=${encodeURIComponent(userId)}`}>
        {userId} <span class="muted">(user_id)</span>
      </a>
    );
  }
  return <span class="muted">—</span>;
}

/** A link to an event's page. */
export const EventLink = ({ eventId }: { eventId: string }) => (
  <a class="mono" href={`/admin/events/${encodeURIComponent(eventId)}`}>
    {eventId}
  </a>
);

/** A delivery's error: our code or the provider's reason, and the provider's own words where it gave any. */
export function ErrorText({ error, detail }: { error: string | null; detail?: string | null }) {
  if (!error) return <span class="muted">—</span>;
  return (
    <>
      <code>{error}</code>
      {detail ? <div class="muted">{detail}</div> : null}
    </>
  );
}

/** Opens as a share: `12 of 40 notifications … (30 %)`; what is counted is the caller's `unit`. */
export function OpenRate({ opened, of, unit }: { opened: number; of: number; unit: string }) {
  if (of === 0) return <span class="muted">nothing to open yet</span>;
  return (
    <span>
      {opened.toLocaleString("en-US")} of {of.toLocaleString("en-US")} {unit} ({Math.round((100 * opened) / of)} %)
    </span>
  );
}

/** Where a delivery went: `fcm · default` (a device without an app is the default one), or a dash without a device. */
export function ProviderApp({ provider, app }: { provider: string | null; app: string | null }) {
  return provider ? <>{`${provider} · ${app ?? "default"}`}</> : <span class="muted">—</span>;
}

/** The path a tap on the notification opens in the app, if it had one. */
export function TapPath({ path }: { path: string | null }) {
  return path ? <code>{path}</code> : <span class="muted">—</span>;
}
