/**
 * Events: the webhooks the relay worked on, newest first, with their
 * counts, searchable by Svix id; an event's page lists each notification
 * and device with status, attempts, error, latency and tap path, and
 * replays what failed.
 */
import { Hono } from "hono";
import { type EventRow, type NotificationText, eventCounts, eventRow, eventsByPrefix, notificationTexts, recentEvents } from "../../db/console-reads";
import { isDeliveryStatus } from "../../db/ledger";
import { type DeliveryRow, eventDeliveries, eventOpens, eventSummary } from "../../db/ledger-reads";
import { NotFoundError, ValidationError } from "../../errors";
import { log } from "../../log";
import { decodeCursor, encodeCursor } from "../../ops/paging";
import { openCursor, sealCursor } from "../seal";
import { replayEvent } from "../../ops/replay";
import { operatorName } from "../auth";
import type { ConsoleEnv } from "../console-env";
import { Confirm, ErrorText, EventLink, OpenRate, Pager, Recipient, Status, StatusCounts, Time, Token } from "../components";
import { csrfToken } from "../csrf";
import { renderPage } from "../layout";

export const eventPages = new Hono<ConsoleEnv>();

/** Events per page: each brings its own counts, read from its own rows. */
const EVENTS_PER_PAGE = 20;
const DELIVERIES_PER_PAGE = 100;
const fmt = (n: number) => n.toLocaleString("en-US");
/** How long after a replay its event page keeps refreshing itself, and how often. */
const REPLAY_FOLLOW_MS = 60_000;
const REFRESH_SECONDS = 2;

/** What a notification said: its title, then its text. */
function NotificationCell({ text }: { text: NotificationText | undefined }) {
  if (!text || (text.title === null && text.body === null)) return <span class="muted">—</span>;
  return (
    <>
      <b>{text.title ?? "—"}</b>
      {text.body !== null && <div class="muted">{text.body}</div>}
    </>
  );
}

/**
 * True while a replay made `replayedAt` may still change the page: a failed
 * row the consumer has not taken up again, or a delivery in flight; never
 * longer than REPLAY_FOLLOW_MS.
 */
function replayInFlight(replayedAt: number, rows: readonly DeliveryRow[], now = Date.now()): boolean {
  if (!(replayedAt > 0) || now - replayedAt > REPLAY_FOLLOW_MS) return false;
  return rows.some((row) => (row.status === "failed" && row.updated_at < replayedAt) || row.status === "sending" || row.status === "retrying");
}

function SearchForm({ value }: { value: string }) {
  return (
    <form class="search" method="get" action="/admin/events" role="search">
      <label class="muted" for="q">
        Svix id (or its beginning)
      </label>
      <input id="q" name="q" type="search" value={value} placeholder="msg_…" autocomplete="off" />
      <button type="submit">Find</button>
    </form>
  );
}

eventPages.get("/events", async (c) => {
  const query = (c.req.query("q") ?? "").trim();
  let events: EventRow[];
  let next: string | null = null;
  if (query !== "") {
    // An exact Svix id goes straight to its event; otherwise every id that starts with it.
    if (await eventRow(c.env.DB, query)) return c.redirect(`/admin/events/${encodeURIComponent(query)}`, 303);
    events = await eventsByPrefix(c.env.DB, query, EVENTS_PER_PAGE);
  } else {
    const after = decodeCursor(await openCursor(c.env, c.req.query("cursor")), ["number", "string"]);
    events = await recentEvents(c.env.DB, EVENTS_PER_PAGE, after && { receivedAt: after[0], eventId: after[1] });
    const last = events.at(-1);
    if (events.length === EVENTS_PER_PAGE && last) next = await sealCursor(c.env, encodeCursor(last.received_at, last.event_id));
  }
  const counts = await eventCounts(
    c.env.DB,
    events.map((e) => e.event_id),
  );
  return renderPage(
    c,
    { title: "Events", current: "/admin/events" },
    <>
      <SearchForm value={query} />
      {query !== "" && (
        <p class="muted">
          {events.length === 0 ? `No event id starts with “${query}”.` : `Event ids starting with “${query}”:`}
        </p>
      )}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>received (UTC)</th>
              <th>svix id</th>
              <th class="num">notifications</th>
              <th>deliveries</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr>
                <td>
                  <Time ms={event.received_at} />
                </td>
                <td>
                  <EventLink eventId={event.event_id} />
                </td>
                <td class="num">{fmt(counts.get(event.event_id)!.notifications)}</td>
                <td>
                  <StatusCounts counts={counts.get(event.event_id)!.deliveries} />
                </td>
              </tr>
            ))}
            {events.length === 0 && query === "" && (
              <tr>
                <td colspan={4} class="muted text">
                  No events yet: they appear once LearnInk's webhook has been received.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager path="/admin/events" params={{ cursor: c.req.query("cursor") }} next={next} />
    </>,
  );
});

eventPages.get("/events/:id", async (c) => {
  const eventId = c.req.param("id");
  const status = c.req.query("status");
  if (status !== undefined && status !== "" && !isDeliveryStatus(status)) {
    throw new ValidationError("invalid_request", "status", "is not a delivery status");
  }
  const after = decodeCursor(await openCursor(c.env, c.req.query("cursor")), ["number", "string"]);
  const [event, summary, rows, opens] = await Promise.all([
    eventRow(c.env.DB, eventId),
    eventSummary(c.env.DB, eventId),
    eventDeliveries(c.env.DB, eventId, {
      after: after && { idx: after[0], token: after[1] },
      status: status || undefined,
      limit: DELIVERIES_PER_PAGE,
    }),
    eventOpens(c.env.DB, eventId),
  ]);
  const { opened: _opened, ...byStatus } = summary;
  if (!event && Object.keys(byStatus).length === 0) {
    throw new NotFoundError("the ledger has no such event (an event appears once its first queue message is consumed)");
  }
  const texts = await notificationTexts(c.env.DB, eventId, rows.map((row) => row.idx));
  const last = rows.at(-1);
  const next = await sealCursor(c.env, rows.length === DELIVERIES_PER_PAGE && last ? encodeCursor(last.idx, last.device_token) : null);
  const replayed = c.req.query("replayed");
  const following = replayed !== undefined && replayed !== "0" && replayInFlight(Number(c.req.query("at")), rows);
  const failed = summary.failed ?? 0;
  return renderPage(
    c,
    { title: `Event ${eventId}`, current: "/admin/events", refreshSeconds: following ? REFRESH_SECONDS : undefined },
    <>
      {replayed !== undefined && (
        <p class="notice" role="status">
          {replayed === "0"
            ? "Nothing had failed: nothing was replayed."
            : `Replayed ${replayed} failed deliveries: ${following ? "they are back on the queue; this page refreshes until they are done." : "done, the table shows where they are now."}`}
        </p>
      )}
      <dl class="facts">
        <dt>received</dt>
        <dd>{event ? <Time ms={event.received_at} /> : <span class="muted">—</span>}</dd>
        <dt>deliveries</dt>
        <dd>
          <StatusCounts counts={byStatus} />
        </dd>
        <dt>opened</dt>
        <dd>
          <OpenRate opened={opens.opened} of={opens.reached} unit="notifications that reached a phone" />
        </dd>
        <dt>show</dt>
        <dd>
          <a href={`/admin/events/${encodeURIComponent(eventId)}`}>all</a>
          {Object.keys(byStatus).map((s) => (
            <>
              {" · "}
              <a href={`/admin/events/${encodeURIComponent(eventId)}?status=${s}`}>{s.replace("_", " ")}</a>
            </>
          ))}
        </dd>
      </dl>
      {failed > 0 && (
        <Confirm
          action={`/admin/events/${encodeURIComponent(eventId)}/replay`}
          label={`Replay ${fmt(failed)} failed…`}
          question={`Put the ${fmt(failed)} failed deliveries of this event back on the queue? Sent ones are not sent again. OneSignal users get the same idempotency key as before: within 30 days OneSignal answers with its first result, so a notification it already created is not shown twice.`}
          confirm="Replay now"
          csrf={csrfToken(c)}
        />
      )}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th class="num">#</th>
              <th>status</th>
              <th>user</th>
              <th>notification</th>
              <th>device</th>
              <th>provider · app</th>
              <th class="num">attempts</th>
              <th>error</th>
              <th class="num">latency</th>
              <th>tap path</th>
              <th>updated (UTC)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr data-status={row.status}>
                <td class="num">{row.idx}</td>
                <td>
                  <Status status={row.status} />
                </td>
                <td>
                  <Recipient customId={row.custom_id} userId={row.user_id} />
                </td>
                <td class="text">
                  <NotificationCell text={texts.get(row.idx)} />
                </td>
                <td>
                  <Token token={row.device_token} />
                </td>
                <td>{row.provider ? `${row.provider} · ${row.app ?? "default"}` : <span class="muted">—</span>}</td>
                <td class="num">{row.attempts}</td>
                <td class="text">
                  <ErrorText error={row.error} detail={row.detail} />
                  {row.next_attempt_at !== null && (
                    <div class="muted">
                      next attempt <Time ms={row.next_attempt_at} />
                    </div>
                  )}
                </td>
                <td class="num">{row.latency_ms === null ? "—" : `${fmt(row.latency_ms)} ms`}</td>
                <td>{row.path ? <code>{row.path}</code> : <span class="muted">—</span>}</td>
                <td>
                  <Time ms={row.updated_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager path={`/admin/events/${encodeURIComponent(eventId)}`} params={{ status, cursor: c.req.query("cursor") }} next={next} />
    </>,
  );
});

eventPages.post("/events/:id/replay", async (c) => {
  const eventId = c.req.param("id");
  const result = await replayEvent(c.env, eventId);
  log("console", { action: "replay", event_id: eventId, deliveries: result.replayed.deliveries, by: operatorName(c.get("user")) });
  // Back to the event, which follows the replay (refreshing itself) until its deliveries have moved on.
  return c.redirect(`/admin/events/${encodeURIComponent(eventId)}?replayed=${result.replayed.deliveries}&at=${Date.now()}`, 303);
});
