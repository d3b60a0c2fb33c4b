/**
 * Failures: failed and rejected deliveries, newest first, in one table with
 * a Replay button per event (a replay resends the failed ones; a rejected
 * notification failed validation and is not resent); and
 * the devices the pruning brake holds, with Restore and Confirm removal.
 */
import { Hono } from "hono";
import { type FailureRow, recentFailures } from "../../db/console-reads";
import { decodeCursor, encodeCursor } from "../../ops/paging";
import { openCursor, sealCursor } from "../seal";
import type { ConsoleEnv } from "../console-env";
import { Confirm, DeliveryTail, EventLink, Pager, Recipient, Status, Time } from "../components";
import { csrfToken } from "../csrf";
import { renderPage } from "../layout";
import { DoneNotice, QuarantineTable, quarantinePage } from "./quarantine";

export const failurePages = new Hono<ConsoleEnv>();

const FAILURES_PER_PAGE = 50;

/** The first failed row of each event on the page: where that event's Replay button goes. */
function replayRows(rows: readonly FailureRow[]): Set<FailureRow> {
  const events = new Set<string>();
  const chosen = new Set<FailureRow>();
  for (const row of rows) {
    if (row.status !== "failed" || events.has(row.event_id)) continue;
    events.add(row.event_id);
    chosen.add(row);
  }
  return chosen;
}

function FailureLine({ row, csrf, replay }: { row: FailureRow; csrf: string; replay: boolean }) {
  return (
    <tr data-status={row.status} data-event={row.event_id}>
      <td>
        <Time ms={row.updated_at} />
      </td>
      <td>
        <EventLink eventId={row.event_id} />
      </td>
      <td class="num">{row.idx}</td>
      <td>
        <Status status={row.status} />
      </td>
      <td>
        <Recipient customId={row.custom_id} userId={row.user_id} />
      </td>
      <DeliveryTail row={row} />
      <td>
        {replay && (
          <Confirm
            action={`/admin/events/${encodeURIComponent(row.event_id)}/replay`}
            label="Replay…"
            question="Put this event's failed deliveries back on the queue? Sent ones are not sent again; rejected notifications stay rejected."
            confirm="Replay now"
            csrf={csrf}
          />
        )}
      </td>
    </tr>
  );
}

/** One table for the page, so columns line up; each event's Replay sits on its newest failed row. */
function FailuresTable({ rows, csrf }: { rows: readonly FailureRow[]; csrf: string }) {
  const replay = replayRows(rows);
  return (
    <div class="scroll">
      <table class="failures">
        <thead>
          <tr>
            <th>when (UTC)</th>
            <th>event</th>
            <th class="num">#</th>
            <th>status</th>
            <th>user</th>
            <th>device</th>
            <th>provider · app</th>
            <th class="num">attempts</th>
            <th>error</th>
            <th>replay</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <FailureLine row={row} csrf={csrf} replay={replay.has(row)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

failurePages.get("/failures", async (c) => {
  const [cursor, held] = [c.req.query("cursor"), c.req.query("held")];
  const after = decodeCursor(await openCursor(c.env, cursor), ["number", "string", "number", "string"]);
  const [rows, quarantine] = await Promise.all([
    recentFailures(c.env.DB, FAILURES_PER_PAGE, after && { updatedAt: after[0], eventId: after[1], index: after[2], token: after[3] }),
    quarantinePage(c.env, held),
  ]);
  const last = rows.at(-1);
  const next = await sealCursor(c.env, rows.length === FAILURES_PER_PAGE && last ? encodeCursor(last.updated_at, last.event_id, last.idx, last.device_token) : null);
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
        actions={{ refs: quarantine.refs, csrf, back: `${here.pathname}${here.search}` }}
        pager={{ params: { cursor, held }, next: quarantine.next }}
      />
      <h2>Failed and rejected deliveries</h2>
      <p class="muted">
        Failed and rejected deliveries, newest first (the ledger keeps 30 days). A failed delivery can be replayed once its cause is
        fixed; a rejected notification failed validation and says which field.
      </p>
      {rows.length === 0 && <p class="notice">Nothing failed or was rejected.</p>}
      {rows.length > 0 && <FailuresTable rows={rows} csrf={csrf} />}
      <Pager path="/admin/failures" params={{ cursor, held }} next={next} />
    </>,
  );
});
