/**
 * Failures: failed and rejected deliveries, newest first, grouped by event
 * on each page with a Replay button per event (a replay resends the failed
 * ones; a rejected notification failed validation and is not resent); and
 * the devices the pruning brake holds, with Restore and Confirm removal.
 */
import { Hono } from "hono";
import { type FailureRow, recentFailures } from "../../db/console-reads";
import { decodeCursor, encodeCursor } from "../../ops/paging";
import type { ConsoleEnv } from "../console-env";
import { Confirm, DeliveryCells, DeliveryHeaders, EventLink, Pager, Time } from "../components";
import { csrfToken } from "../csrf";
import { renderPage } from "../layout";
import { DoneNotice, QuarantineTable, quarantinePage } from "./quarantine";

export const failurePages = new Hono<ConsoleEnv>();

const FAILURES_PER_PAGE = 50;

/** The page's rows by event, in the order the events first appear. */
function byEvent(rows: readonly FailureRow[]): [string, FailureRow[]][] {
  const groups = new Map<string, FailureRow[]>();
  for (const row of rows) {
    const group = groups.get(row.event_id);
    if (group) group.push(row);
    else groups.set(row.event_id, [row]);
  }
  return [...groups];
}

function FailuresTable({ rows }: { rows: FailureRow[] }) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <DeliveryHeaders />
            <th>when (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr data-status={row.status}>
              <DeliveryCells row={row} />
              <td>
                <Time ms={row.updated_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function EventFailures({ eventId, rows, csrf }: { eventId: string; rows: FailureRow[]; csrf: string }) {
  const failed = rows.some((row) => row.status === "failed");
  return (
    <section data-event={eventId}>
      <h3>
        <EventLink eventId={eventId} />
      </h3>
      {failed && (
        <Confirm
          action={`/admin/events/${encodeURIComponent(eventId)}/replay`}
          label="Replay…"
          question="Put this event's failed deliveries back on the queue? Sent ones are not sent again; rejected notifications stay rejected."
          confirm="Replay now"
          csrf={csrf}
        />
      )}
      <FailuresTable rows={rows} />
    </section>
  );
}

failurePages.get("/failures", async (c) => {
  const [cursor, held] = [c.req.query("cursor"), c.req.query("held")];
  const after = decodeCursor(cursor, ["number", "string", "number", "string"]);
  const [rows, quarantine] = await Promise.all([
    recentFailures(c.env.DB, FAILURES_PER_PAGE, after && { updatedAt: after[0], eventId: after[1], index: after[2], token: after[3] }),
    quarantinePage(c.env.DB, held),
  ]);
  const last = rows.at(-1);
  const next = rows.length === FAILURES_PER_PAGE && last ? encodeCursor(last.updated_at, last.event_id, last.idx, last.device_token) : null;
  const csrf = csrfToken(c);
  const here = new URL(c.req.url);
  here.searchParams.delete("done");
  return renderPage(
    c,
    { title: "Failures", current: "/admin/failures" },
    <>
      <DoneNotice done={c.req.query("done")} />
      <h2 id="quarantine">Quarantined devices</h2>
      <p class="muted">
        Devices the pruning brake holds after a burst of dead-token answers: kept, not sent to, and purged 7 days after the hold unless
        restored.
      </p>
      <QuarantineTable
        devices={quarantine.devices}
        csrf={csrf}
        back={`${here.pathname}${here.search}`}
        pager={{ params: { cursor, held }, next: quarantine.next }}
      />
      <h2>Failed and rejected deliveries</h2>
      <p class="muted">
        Failed and rejected deliveries, newest first (the ledger keeps 30 days). A failed delivery can be replayed once its cause is
        fixed; a rejected notification failed validation and says which field.
      </p>
      {rows.length === 0 && <p class="notice">Nothing failed or was rejected.</p>}
      {byEvent(rows).map(([eventId, group]) => (
        <EventFailures eventId={eventId} rows={group} csrf={csrf} />
      ))}
      <Pager path="/admin/failures" params={{ cursor, held }} next={next} />
    </>,
  );
});
