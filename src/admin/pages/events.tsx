/**
 * Events: the webhooks the relay worked on, newest first, with their
 * counts, searchable by Svix id; an event's page lists each notification
 * and device with status, attempts, error, latency and tap path, and
 * replays what failed.
 */
import { Hono } from "hono";
import { type EventRow, eventCounts, eventRow, eventsByPrefix, recentEvents } from "../../db/console-reads";
import { isDeliveryStatus } from "../../db/ledger";
import { eventDeliveries, eventSummary } from "../../db/ledger-reads";
import { NotFoundError, ValidationError } from "../../errors";
import { log } from "../../log";
import { decodeCursor, encodeCursor } from "../../ops/paging";
import { replayEvent } from "../../ops/replay";
import { operatorName } from "../auth";
import type { ConsoleEnv } from "../console-env";
import { Confirm, DeliveryCells, DeliveryHeaders, EventLink, Pager, StatusCounts, Time } from "../components";
import { csrfToken } from "../csrf";
import { renderPage } from "../layout";

export const eventPages = new Hono<ConsoleEnv>();

/** Events per page: each brings its own counts, read from its own rows. */
const EVENTS_PER_PAGE = 20;
const DELIVERIES_PER_PAGE = 100;
const fmt = (n: number) => n.toLocaleString("en-US");

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

/** The events of a page: those whose id starts with `query`, else the newest (after the cursor). */
async function listEvents(db: D1Database, query: string, cursor: string | undefined): Promise<{ events: EventRow[]; next: string | null }> {
  if (query !== "") return { events: await eventsByPrefix(db, query, EVENTS_PER_PAGE), next: null };
  const after = decodeCursor(cursor, ["number", "string"]);
  const events = await recentEvents(db, EVENTS_PER_PAGE, after && { receivedAt: after[0], eventId: after[1] });
  const last = events.at(-1);
  return { events, next: events.length === EVENTS_PER_PAGE && last ? encodeCursor(last.received_at, last.event_id) : null };
}

function EventsTable({ events, counts, query }: { events: EventRow[]; counts: Awaited<ReturnType<typeof eventCounts>>; query: string }) {
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
              <td colspan={4} class="muted">
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
  // An exact Svix id goes straight to its event; otherwise every id that starts with it.
  if (query !== "" && (await eventRow(c.env.DB, query))) return c.redirect(`/admin/events/${encodeURIComponent(query)}`, 303);
  const { events, next } = await listEvents(c.env.DB, query, c.req.query("cursor"));
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
      <EventsTable events={events} counts={counts} query={query} />
      <Pager path="/admin/events" params={{ cursor: c.req.query("cursor") }} next={next} />
    </>,
  );
});

type Deliveries = Awaited<ReturnType<typeof eventDeliveries>>;

/** One event's page of deliveries (of one status, after the cursor); throws NotFoundError for an event the ledger does not know. */
async function loadEvent(db: D1Database, eventId: string, query: { status: string | undefined; cursor: string | undefined }) {
  if (query.status !== undefined && query.status !== "" && !isDeliveryStatus(query.status)) {
    throw new ValidationError("invalid_request", "status", "is not a delivery status");
  }
  const after = decodeCursor(query.cursor, ["number", "string"]);
  const [event, summary, rows] = await Promise.all([
    eventRow(db, eventId),
    eventSummary(db, eventId),
    eventDeliveries(db, eventId, { after: after && { idx: after[0], token: after[1] }, status: query.status || undefined, limit: DELIVERIES_PER_PAGE }),
  ]);
  if (!event && Object.keys(summary).length === 0) {
    throw new NotFoundError(`the ledger has no event ${eventId} (an event appears once its first queue message is consumed)`);
  }
  const last = rows.at(-1);
  const next = rows.length === DELIVERIES_PER_PAGE && last ? encodeCursor(last.idx, last.device_token) : null;
  return { event, summary, rows, next };
}

function EventFacts({ eventId, receivedAt, summary }: { eventId: string; receivedAt: number | null; summary: Record<string, number> }) {
  return (
    <dl class="facts">
      <dt>received</dt>
      <dd>{receivedAt !== null ? <Time ms={receivedAt} /> : <span class="muted">—</span>}</dd>
      <dt>deliveries</dt>
      <dd>
        <StatusCounts counts={summary} />
      </dd>
      <dt>show</dt>
      <dd>
        <a href={`/admin/events/${encodeURIComponent(eventId)}`}>all</a>
        {Object.keys(summary).map((s) => (
          <>
            {" · "}
            <a href={`/admin/events/${encodeURIComponent(eventId)}?status=${s}`}>{s.replace("_", " ")}</a>
          </>
        ))}
      </dd>
    </dl>
  );
}

function DeliveryRow({ row }: { row: Deliveries[number] }) {
  return (
    <tr data-status={row.status}>
      <DeliveryCells row={row}>
        {row.next_attempt_at !== null && (
          <div class="muted">
            next attempt <Time ms={row.next_attempt_at} />
          </div>
        )}
      </DeliveryCells>
      <td class="num">{row.latency_ms === null ? "—" : `${fmt(row.latency_ms)} ms`}</td>
      <td>{row.path ? <code>{row.path}</code> : <span class="muted">—</span>}</td>
      <td>
        <Time ms={row.updated_at} />
      </td>
    </tr>
  );
}

function DeliveriesTable({ rows }: { rows: Deliveries }) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <DeliveryHeaders />
            <th class="num">latency</th>
            <th>tap path</th>
            <th>updated (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <DeliveryRow row={row} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

eventPages.get("/events/:id", async (c) => {
  const eventId = c.req.param("id");
  const status = c.req.query("status");
  const { event, summary, rows, next } = await loadEvent(c.env.DB, eventId, { status, cursor: c.req.query("cursor") });
  const replayed = c.req.query("replayed");
  const failed = summary.failed ?? 0;
  return renderPage(
    c,
    { title: `Event ${eventId}`, current: "/admin/events" },
    <>
      {replayed !== undefined && (
        <p class="notice" role="status">
          {replayed === "0" ? "Nothing had failed: nothing was replayed." : `Replayed ${replayed} failed deliveries: they are back on the queue.`}
        </p>
      )}
      <EventFacts eventId={eventId} receivedAt={event ? event.received_at : null} summary={summary} />
      {failed > 0 && (
        <Confirm
          action={`/admin/events/${encodeURIComponent(eventId)}/replay`}
          label={`Replay ${fmt(failed)} failed…`}
          question={`Put the ${fmt(failed)} failed deliveries of this event back on the queue? Sent ones are not sent again.`}
          confirm="Replay now"
          csrf={csrfToken(c)}
        />
      )}
      <DeliveriesTable rows={rows} />
      <Pager path={`/admin/events/${encodeURIComponent(eventId)}`} params={{ status, cursor: c.req.query("cursor") }} next={next} />
    </>,
  );
});

eventPages.post("/events/:id/replay", async (c) => {
  const eventId = c.req.param("id");
  const result = await replayEvent(c.env, eventId);
  log("console", { action: "replay", event_id: eventId, deliveries: result.replayed.deliveries, by: operatorName(c.get("user")) });
  return c.redirect(`/admin/events/${encodeURIComponent(eventId)}?replayed=${result.replayed.deliveries}`, 303);
});
