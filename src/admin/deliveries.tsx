/**
 * The console's one table of deliveries. The event page, the user page and
 * the failures list show the same rows (src/db/delivery-rows.ts), each with
 * the columns it needs picked from one set of cells, so a delivery reads
 * the same on every page and a column is written once.
 */
import type { Child } from "hono/jsx";
import type { DeliveryRow } from "../db/delivery-rows";
import { ErrorText, EventLink, ProviderApp, Recipient, Status, TapPath, Time, Token } from "./components";

/** A column: its header, its cell, and how the cell is set (`num` right-aligned, `text` wrapping). */
export interface DeliveryColumnSpec {
  head: string;
  align?: "num" | "text";
  cell: (row: DeliveryRow) => Child;
}

/** What a notification said: its title, then its text. */
function NotificationCell({ row }: { row: DeliveryRow }) {
  if (row.title === null && row.body === null) return <span class="muted">—</span>;
  return (
    <>
      <b>{row.title ?? "—"}</b>
      {row.body !== null && <div class="muted">{row.body}</div>}
    </>
  );
}

/** Why it failed or waits, in our code and the provider's words, and when it is tried next. */
function ErrorCell({ row }: { row: DeliveryRow }) {
  return (
    <>
      <ErrorText error={row.error} detail={row.detail} />
      {row.next_attempt_at !== null && (
        <div class="muted">
          next attempt <Time ms={row.next_attempt_at} />
        </div>
      )}
    </>
  );
}

const COLUMNS = {
  notified: { head: "notified (UTC)", cell: (row) => <Time ms={row.notified_at} /> },
  updated: { head: "updated (UTC)", cell: (row) => <Time ms={row.updated_at} /> },
  event: { head: "event", cell: (row) => <EventLink eventId={row.event_id} /> },
  index: { head: "#", align: "num", cell: (row) => row.idx },
  status: { head: "status", cell: (row) => <Status status={row.status} /> },
  user: { head: "user", cell: (row) => <Recipient customId={row.custom_id} userId={row.user_id} /> },
  notification: { head: "notification", align: "text", cell: (row) => <NotificationCell row={row} /> },
  device: { head: "device", cell: (row) => <Token token={row.device_token} /> },
  provider: { head: "provider · app", cell: (row) => <ProviderApp provider={row.provider} app={row.app} /> },
  attempts: { head: "attempts", align: "num", cell: (row) => row.attempts },
  error: { head: "error", align: "text", cell: (row) => <ErrorCell row={row} /> },
  latency: { head: "latency", align: "num", cell: (row) => (row.latency_ms === null ? "—" : `${row.latency_ms.toLocaleString("en-US")} ms`) },
  path: { head: "tap path", cell: (row) => <TapPath path={row.path} /> },
} satisfies Record<string, DeliveryColumnSpec>;

export type DeliveryColumn = keyof typeof COLUMNS;

/** Deliveries, one row each, in the columns named; `extra` adds a page's own last column (the failures' Replay). */
export function DeliveriesTable(props: { rows: readonly DeliveryRow[]; columns: readonly DeliveryColumn[]; extra?: DeliveryColumnSpec; class?: string }) {
  const columns: DeliveryColumnSpec[] = props.columns.map((name) => COLUMNS[name]);
  if (props.extra) columns.push(props.extra);
  return (
    <div class="scroll">
      <table class={props.class}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th class={column.align === "num" ? "num" : undefined}>{column.head}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr data-status={row.status} data-event={row.event_id}>
              {columns.map((column) => (
                <td class={column.align}>{column.cell(row)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
