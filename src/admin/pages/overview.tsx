/**
 * Overview: the alarms an operator must act on (a provider refusing our
 * settings, the pruning brake) with what to check; how deliveries went
 * over the last 24 hours and 7 days, per provider and per app; a chart of
 * deliveries per hour; the devices the brake holds; and the "Check
 * settings" button (./check.tsx). Alarms and counts
 * are `GET /v1/stats`'s (the same query module), read from the ledger's
 * summaries.
 */
import { Hono } from "hono";
import { hourlyDeliveries, quarantinedCounts } from "../../db/console-reads";
import type { DeliveryStatus } from "../../db/ledger";
import type { AlertView } from "../../db/alerts";
import { type Counts, type StatWindow, readStats } from "../../db/stats";
import type { ConsoleEnv } from "../console-env";
import { HourlyChart } from "../chart";
import { EventLink, OpenRate, Status, Time } from "../components";
import { csrfToken } from "../csrf";
import { renderPage } from "../layout";
import { CheckSettingsForm } from "./check";

export const overviewPage = new Hono<ConsoleEnv>();

/** The columns of the overview's tables; `quarantined` counts devices held now, not deliveries. */
const COLUMNS: readonly DeliveryStatus[] = ["sent", "failed", "rejected", "no_device", "retrying", "invalid_token"];
const WINDOWS: readonly [StatWindow, string][] = [
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
];
const HOUR = 3_600_000;

const sum = (counts: Counts, status: string) => Object.values(counts).reduce((total, byStatus) => total + (byStatus[status] ?? 0), 0);
const fmt = (n: number) => n.toLocaleString("en-US");

/**
 * The row of deliveries that never reached a provider: notifications the
 * webhook rejected and users without a device. They have no provider (and
 * no app), which the ledger records as `none`.
 */
const NoneLabel = ({ label }: { label: string }) => (
  <span class="muted" title={`deliveries without a ${label}: rejected notifications and users without a device`}>
    none (rejected, no device)
  </span>
);

function CountsTable(props: { caption: string; label: string; counts: Counts; quarantined: Record<string, number> }) {
  const keys = [...new Set([...Object.keys(props.counts), ...Object.keys(props.quarantined)])].sort();
  return (
    <div class="scroll">
      <table>
        <caption class="muted">{props.caption}</caption>
        <thead>
          <tr>
            <th>{props.label}</th>
            {COLUMNS.map((status) => (
              <th class="num">
                <Status status={status} />
              </th>
            ))}
            <th class="num">
              <Status status="quarantined" />
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.length === 0 && (
            <tr>
              <td colspan={COLUMNS.length + 2} class="muted text">
                Nothing yet.
              </td>
            </tr>
          )}
          {keys.map((key) => (
            <tr>
              <th>{key === "none" ? <NoneLabel label={props.label} /> : key}</th>
              {COLUMNS.map((status) => (
                <td class="num">{fmt(props.counts[key]?.[status] ?? 0)}</td>
              ))}
              <td class="num">{fmt(props.quarantined[key] ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Alarm({ alert }: { alert: AlertView }) {
  const brake = alert.kind === "pruning_brake";
  return (
    <div class="alarm" role="alert" data-kind={alert.kind}>
      <strong>
        {brake ? "Pruning brake" : "Provider misconfigured"}: {alert.provider} · {alert.app}
        {alert.reason && (
          <>
            {" "}
            <code>{alert.reason}</code>
          </>
        )}
      </strong>
      <p>
        {fmt(alert.count)} {brake ? "devices quarantined" : "answers"} since <Time ms={Date.parse(alert.since)} />, the last at{" "}
        <Time ms={Date.parse(alert.last_seen_at)} />
        {alert.last_event_id && (
          <>
            {" "}
            (event <EventLink eventId={alert.last_event_id} />)
          </>
        )}
        .
      </p>
      <p>
        <b>What to check:</b> {alert.check}
      </p>
      {brake && (
        <p>
          <a href="/admin/failures#quarantine">Restore or remove the quarantined devices →</a>
        </p>
      )}
    </div>
  );
}

type Card = [string, DeliveryStatus | "quarantined", (w: StatWindow) => number];

function Cards({ cards }: { cards: Card[] }) {
  return (
    <div class="cards">
      {cards.map(([label, status, count]) => (
        <div class="card" data-status={label}>
          <Status status={status} />
          <b>{fmt(count("24h"))}</b>
          <span class="muted">{status === "quarantined" ? "devices now" : `24 h · ${fmt(count("7d"))} in 7 d`}</span>
        </div>
      ))}
    </div>
  );
}

function Alarms({ alerts }: { alerts: Parameters<typeof Alarm>[0]["alert"][] }) {
  if (alerts.length === 0) {
    return (
      <p class="notice" data-kind="none">
        No alarm: no provider refuses the relay's settings, and the pruning brake holds nothing.
      </p>
    );
  }
  return (
    <>
      {alerts.map((alert) => (
        <Alarm alert={alert} />
      ))}
    </>
  );
}

overviewPage.get("/", async (c) => {
  const now = Date.now();
  const since = (Math.floor(now / HOUR) - 23) * HOUR;
  const [stats, hourly, held] = await Promise.all([readStats(c.env.DB, now), hourlyDeliveries(c.env.DB, since), quarantinedCounts(c.env.DB)]);
  const heldBy = (key: "provider" | "app") => {
    const out: Record<string, number> = {};
    for (const row of held) out[row[key]] = (out[row[key]] ?? 0) + row.n;
    return out;
  };
  const quarantinedTotal = held.reduce((total, row) => total + row.n, 0);
  const cards: Card[] = [
    ...COLUMNS.slice(0, 5).map((status): [string, DeliveryStatus, (w: StatWindow) => number] => [status, status, (w) => sum(stats.deliveries[w], status)]),
    ["quarantined", "quarantined", () => quarantinedTotal],
  ];
  return renderPage(
    c,
    { title: "Overview", current: "/admin" },
    <>
      <Alarms alerts={stats.alerts} />
      <p>
        <CheckSettingsForm csrf={csrfToken(c)} />
      </p>
      <Cards cards={cards} />
      <p class="muted">
        {fmt(stats.retry_queue.deliveries)} deliveries waiting for a retry or in flight
        {stats.retry_queue.next_attempt_at !== null && `, next attempt ${new Date(stats.retry_queue.next_attempt_at).toISOString().slice(11, 16)} UTC`}.
      </p>
      <p data-kind="opens">
        Opened in 24 h: <OpenRate opened={stats.opens["24h"]} of={sum(stats.deliveries["24h"], "sent")} unit="pushes sent" />; in 7 d:{" "}
        <OpenRate opened={stats.opens["7d"]} of={sum(stats.deliveries["7d"], "sent")} unit="pushes sent" />. A user who opens a reminder
        reached on two phones counts once.
      </p>
      <h2>Deliveries per hour</h2>
      <HourlyChart rows={hourly} now={now} />
      {WINDOWS.map(([window, caption]) => (
        <>
          <h2>{caption}</h2>
          <CountsTable caption={`${caption}, by provider`} label="provider" counts={stats.deliveries[window]} quarantined={heldBy("provider")} />
          <CountsTable caption={`${caption}, by app`} label="app" counts={stats.deliveries_by_app[window]} quarantined={heldBy("app")} />
        </>
      ))}
      <p class="muted">
        Deliveries are counted by the time of their event. Quarantined: devices the pruning brake holds now (restore them on the{" "}
        <a href="/admin/failures">Failures</a> page).
      </p>
    </>,
  );
});
