/**
 * Failures: failed and rejected deliveries, newest first, in one table with
 * a Replay button per event (a replay resends the failed ones; a rejected
 * notification failed validation and is not resent); and
 * the devices the pruning brake holds, with Restore and Confirm removal.
 */
import { Hono } from "hono";
import { recentFailures } from "../../db/console-reads";
import type { DeliveryRow } from "../../db/delivery-rows";
import { decodeCursor, encodeCursor } from "../../ops/paging";
import { openCursor, sealCursor } from "../seal";
import type { ConsoleEnv } from "../console-env";
import { Confirm, Pager } from "../components";
import { csrfToken } from "../csrf";
import { DeliveriesTable, type DeliveryColumnSpec } from "../deliveries";
import { renderPage } from "../layout";
import { DoneNotice, QuarantineTable, quarantinePage } from "./quarantine";

export const failurePages = new Hono<ConsoleEnv>();

const FAILURES_PER_PAGE = 50;

/** The first failed row of each event on the page: where that event's Replay button goes. */
function replayRows(rows: readonly DeliveryRow[]): Set<DeliveryRow> {
  const events = new Set<string>();
  const chosen = new Set<DeliveryRow>();
  for (const row of rows) {
    if (row.status !== "failed" || events.has(row.event_id)) continue;
    events.add(row.event_id);
    chosen.add(row);
  }
  return chosen;
}

/** The Replay column: a button on each event's first failed row (a rejected notification is not resent). */
function replayColumn(rows: readonly DeliveryRow[], csrf: string): DeliveryColumnSpec {
  const replay = replayRows(rows);
  return {
    head: "replay",
    cell: (row) =>
      replay.has(row) && (
        <Confirm
          action={`/admin/events/${encodeURIComponent(row.event_id)}/replay`}
          label="Replay…"
          question="Put this event's failed deliveries back on the queue? Sent ones are not sent again; rejected notifications stay rejected."
          confirm="Replay now"
          csrf={csrf}
        />
      ),
  };
}

/** One table for the page, so columns line up; each event's Replay sits on its first failed row. */
function FailuresTable({ rows, csrf }: { rows: readonly DeliveryRow[]; csrf: string }) {
  const columns = ["updated", "event", "index", "status", "user", "device", "provider", "attempts", "error"] as const;
  return <DeliveriesTable class="failures" rows={rows} columns={columns} extra={replayColumn(rows, csrf)} />;
}

failurePages.get("/failures", async (c) => {
  const [cursor, held] = [c.req.query("cursor"), c.req.query("held")];
  const after = decodeCursor(await openCursor(c.env, cursor), ["number", "string", "number", "string"]);
  const [rows, quarantine] = await Promise.all([
    recentFailures(c.env.DB, FAILURES_PER_PAGE, after && { bucket: after[0], event_id: after[1], idx: after[2], device_token: after[3] }, Date.now()),
    quarantinePage(c.env, held),
  ]);
  const last = rows.at(-1);
  const next = await sealCursor(c.env, rows.length === FAILURES_PER_PAGE && last ? encodeCursor(last.bucket, last.event_id, last.idx, last.device_token) : null);
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
        Failed and rejected deliveries, newest event first (the ledger keeps 30 days). A failed delivery can be replayed once its cause is
        fixed; a rejected notification failed validation and says which field.
      </p>
      {rows.length === 0 && <p class="notice">Nothing failed or was rejected.</p>}
      {rows.length > 0 && <FailuresTable rows={rows} csrf={csrf} />}
      <Pager path="/admin/failures" params={{ cursor, held }} next={next} />
    </>,
  );
});
