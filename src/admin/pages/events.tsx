/**
 * Events: the webhooks the relay worked on, newest first, with their
 * counts, searchable by Svix id; an event's page lists each notification
 * and device with status, attempts, error, latency and tap path, and
 * replays what failed.
 */
import { Hono } from "hono";
import { type EventListing, eventKnown, eventsByPrefix, recentEvents } from "../../db/console-reads";
import { type DeliveryStatus, isDeliveryStatus } from "../../db/ledger";
import { type DeliveryRow, eventPage } from "../../db/ledger-reads";
import { NotFoundError, ValidationError } from "../../errors";
import { log } from "../../log";
import { decodeCursor, encodeCursor } from "../../ops/paging";
import { openCursor, sealCursor } from "../seal";
import { replayEvent } from "../../ops/replay";
import { operatorName } from "../auth";
import type { ConsoleEnv } from "../console-env";
import { Confirm, EventLink, OpenRate, Pager, StatusCounts, Time } from "../components";
import { csrfToken } from "../csrf";
import { DeliveriesTable } from "../deliveries";
import { renderPage } from "../layout";

export const eventPages = new Hono<ConsoleEnv>();

/** Events per page: each brings its counts, from its own summaries. */
const EVENTS_PER_PAGE = 20;
const DELIVERIES_PER_PAGE = 100;
const fmt = (n: number) => n.toLocaleString("en-US");
/** How long after a replay its event page keeps refreshing itself, and how often. */
const REPLAY_FOLLOW_MS = 60_000;
const REFRESH_SECONDS = 2;

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

/** A page of the events list and the cursor of the page after it, if any. */
interface EventList {
  events: EventListing[];
  next: string | null;
}

/** The newest events whose Svix id starts with `prefix`: one page, no paging. */
async function eventsStartingWith(db: D1Database, prefix: string): Promise<EventList> {
  return { events: await eventsByPrefix(db, prefix, EVENTS_PER_PAGE, Date.now()), next: null };
}

/** The page of events after `cursor`, newest first. */
async function latestEvents(env: Env, cursor: string | undefined): Promise<EventList> {
  const after = decodeCursor(await openCursor(env, cursor), ["number", "string"]);
  const events = await recentEvents(env.DB, EVENTS_PER_PAGE, after && { bucket: after[0], eventId: after[1] });
  const last = events.at(-1);
  const next = events.length === EVENTS_PER_PAGE && last ? await sealCursor(env, encodeCursor(last.bucket, last.event_id)) : null;
  return { events, next };
}

/** What a search found, in a line above the table. */
function SearchResult({ query, found }: { query: string; found: number }) {
  if (query === "") return null;
  return <p class="muted">{found === 0 ? `No event id starts with “${query}”.` : `Event ids starting with “${query}”:`}</p>;
}

function EventLine({ event }: { event: EventListing }) {
  return (
    <tr>
      <td>
        <Time ms={event.received_at} />
      </td>
      <td>
        <EventLink eventId={event.event_id} />
      </td>
      <td class="num">{fmt(event.notifications)}</td>
      <td>
        <StatusCounts counts={event.deliveries} />
      </td>
    </tr>
  );
}

/** The events with their counts; before the first webhook (and not searching), a row that says so. */
function EventsTable({ events, searching }: { events: EventListing[]; searching: boolean }) {
  return (
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
            <EventLine event={event} />
          ))}
          {events.length === 0 && !searching && (
            <tr>
              <td colspan={4} class="muted text">
                No events yet: they appear once LearnInk's webhook has been received.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

eventPages.get("/events", async (c) => {
  const query = (c.req.query("q") ?? "").trim();
  const cursor = c.req.query("cursor");
  // An exact Svix id goes straight to its event; otherwise every id that starts with it.
  if (query !== "" && (await eventKnown(c.env.DB, query, Date.now()))) return c.redirect(`/admin/events/${encodeURIComponent(query)}`, 303);
  const { events, next } = query !== "" ? await eventsStartingWith(c.env.DB, query) : await latestEvents(c.env, cursor);
  return renderPage(
    c,
    { title: "Events", current: "/admin/events" },
    <>
      <SearchForm value={query} />
      <SearchResult query={query} found={events.length} />
      <EventsTable events={events} searching={query !== ""} />
      <Pager path="/admin/events" params={{ cursor }} next={next} />
    </>,
  );
});

/** The `status` filter of an event's page: a delivery status, or none. */
function statusFilter(status: string | undefined): DeliveryStatus | undefined {
  if (status === undefined || status === "") return undefined;
  if (!isDeliveryStatus(status)) throw new ValidationError("invalid_request", "status", "is not a delivery status");
  return status;
}

/** What an event's page shows: when it came, its counts and opens, and one page of its deliveries. */
interface EventView {
  receivedAt: number;
  byStatus: Partial<Record<DeliveryStatus, number>>;
  opens: { reached: number; opened: number };
  rows: DeliveryRow[];
  next: string | null;
}

/** Reads an event's page (deliveries after `cursor`, of `status` if given), as the API does; a 404 when the ledger knows nothing of it. */
async function loadEventPage(env: Env, eventId: string, filter: { status: DeliveryStatus | undefined; cursor: string | undefined }): Promise<EventView> {
  const after = decodeCursor(await openCursor(env, filter.cursor), ["number", "string"]);
  const query = { after: after && { idx: after[0], token: after[1] }, status: filter.status, limit: DELIVERIES_PER_PAGE };
  const page = await eventPage(env.DB, eventId, query, Date.now());
  if (!page) throw new NotFoundError("the ledger has no such event (an event appears once its first queue message is consumed)");
  // The summary counts the opens too: a fact of the event, not a status of its deliveries.
  const { opened = 0, ...byStatus } = page.summary;
  const last = page.rows.at(-1);
  const next = await sealCursor(env, page.rows.length === DELIVERIES_PER_PAGE && last ? encodeCursor(last.idx, last.device_token) : null);
  return { receivedAt: page.receivedAt, byStatus, opens: { opened, reached: page.reached }, rows: page.rows, next };
}

/** What a replay did, after the redirect back from it (`?replayed=<n>`). */
function ReplayNotice({ replayed, following }: { replayed: string | undefined; following: boolean }) {
  if (replayed === undefined) return null;
  return (
    <p class="notice" role="status">
      {replayed === "0"
        ? "Nothing had failed: nothing was replayed."
        : `Replayed ${replayed} failed deliveries: ${following ? "they are back on the queue; this page refreshes until they are done." : "done, the table shows where they are now."}`}
    </p>
  );
}

/** Links that show all of an event's deliveries, or those of one status. */
function StatusLinks({ eventId, statuses }: { eventId: string; statuses: string[] }) {
  return (
    <>
      <a href={`/admin/events/${encodeURIComponent(eventId)}`}>all</a>
      {statuses.map((s) => (
        <>
          {" · "}
          <a href={`/admin/events/${encodeURIComponent(eventId)}?status=${s}`}>{s.replace("_", " ")}</a>
        </>
      ))}
    </>
  );
}

/** The event at a glance: when it came, its deliveries by status, its open rate, and the status filter. */
function EventFacts({ eventId, page }: { eventId: string; page: EventView }) {
  return (
    <dl class="facts">
      <dt>received</dt>
      <dd>
        <Time ms={page.receivedAt} />
      </dd>
      <dt>deliveries</dt>
      <dd>
        <StatusCounts counts={page.byStatus} />
      </dd>
      <dt>opened</dt>
      <dd>
        <OpenRate opened={page.opens.opened} of={page.opens.reached} unit="notifications that reached a phone" />
      </dd>
      <dt>show</dt>
      <dd>
        <StatusLinks eventId={eventId} statuses={Object.keys(page.byStatus)} />
      </dd>
    </dl>
  );
}

/** The Replay button, where something of the event failed. */
function ReplayForm({ eventId, failed, csrf }: { eventId: string; failed: number; csrf: string }) {
  if (failed === 0) return null;
  return (
    <Confirm
      action={`/admin/events/${encodeURIComponent(eventId)}/replay`}
      label={`Replay ${fmt(failed)} failed…`}
      question={`Put the ${fmt(failed)} failed deliveries of this event back on the queue? Sent ones are not sent again. OneSignal users get the same idempotency key as before: within 30 days OneSignal answers with its first result, so a notification it already created is not shown twice.`}
      confirm="Replay now"
      csrf={csrf}
    />
  );
}

/** The columns of an event's deliveries: the notification first, then where it went and how. */
const EVENT_COLUMNS = ["index", "status", "user", "notification", "device", "provider", "attempts", "error", "latency", "path", "updated"] as const;

eventPages.get("/events/:id", async (c) => {
  const eventId = c.req.param("id");
  const [status, cursor] = [statusFilter(c.req.query("status")), c.req.query("cursor")];
  const page = await loadEventPage(c.env, eventId, { status, cursor });
  const replayed = c.req.query("replayed");
  const following = replayed !== undefined && replayed !== "0" && replayInFlight(Number(c.req.query("at")), page.rows);
  return renderPage(
    c,
    { title: `Event ${eventId}`, current: "/admin/events", refreshSeconds: following ? REFRESH_SECONDS : undefined },
    <>
      <ReplayNotice replayed={replayed} following={following} />
      <EventFacts eventId={eventId} page={page} />
      <ReplayForm eventId={eventId} failed={page.byStatus.failed ?? 0} csrf={csrfToken(c)} />
      <DeliveriesTable rows={page.rows} columns={EVENT_COLUMNS} />
      <Pager path={`/admin/events/${encodeURIComponent(eventId)}`} params={{ status, cursor }} next={page.next} />
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
