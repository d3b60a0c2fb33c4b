/**
 * Deliveries per hour by status as a stacked bar chart, drawn on the server
 * as inline SVG: no script, no image request, colours from the stylesheet
 * (classes, since the CSP allows no inline style), and a tooltip per bar.
 */
import type { DeliveryStatus } from "../db/ledger";

/** Bottom to top, the order the bars stack in. */
const STACK: readonly DeliveryStatus[] = ["sent", "no_device", "invalid_token", "rejected", "failed", "retrying", "sending"];
const HOUR = 3_600_000;
const [WIDTH, HEIGHT, LEFT, TOP, BOTTOM] = [720, 210, 44, 10, 24];

/** A "nice" axis maximum at or above `value`: 1, 2 or 5 times a power of ten. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value)!;
}

export interface HourlyCount {
  /** Hours since the epoch (UTC). */
  hour: number;
  status: DeliveryStatus;
  n: number;
}

/** The last `hours` hours up to the one containing `now`, oldest first, each with its counts by status. */
export function hourBuckets(rows: readonly HourlyCount[], now: number, hours = 24): { hour: number; counts: Map<DeliveryStatus, number> }[] {
  const last = Math.floor(now / HOUR);
  const buckets = Array.from({ length: hours }, (_, i) => ({ hour: last - hours + 1 + i, counts: new Map<DeliveryStatus, number>() }));
  for (const row of rows) {
    const bucket = buckets[row.hour - (last - hours + 1)];
    if (bucket) bucket.counts.set(row.status, (bucket.counts.get(row.status) ?? 0) + row.n);
  }
  return buckets;
}

const hourLabel = (hour: number) => `${new Date(hour * HOUR).toISOString().slice(11, 13)}:00`;

/** One hour's stacked bar, with its summary as a tooltip and, every third hour, its label. */
function Bar({ bucket, x, slot, y, labelled }: { bucket: ReturnType<typeof hourBuckets>[number]; x: number; slot: number; y: (value: number) => number; labelled: boolean }) {
  let base = 0;
  const summary = STACK.filter((s) => bucket.counts.has(s))
    .map((s) => `${bucket.counts.get(s)} ${s.replace("_", " ")}`)
    .join(", ");
  return (
    <g>
      <title>{`${hourLabel(bucket.hour)} UTC: ${summary || "nothing"}`}</title>
      {STACK.map((status) => {
        const n = bucket.counts.get(status) ?? 0;
        if (n === 0) return null;
        const top = y(base + n);
        const rect = <rect class={`bar-${status}`} x={x} y={top} width={Math.max(slot - 4, 1)} height={y(base) - top} />;
        base += n;
        return rect;
      })}
      {labelled && (
        <text x={x + (slot - 4) / 2} y={HEIGHT - 8} text-anchor="middle">
          {hourLabel(bucket.hour)}
        </text>
      )}
    </g>
  );
}

export function HourlyChart({ rows, now }: { rows: readonly HourlyCount[]; now: number }) {
  const buckets = hourBuckets(rows, now);
  const totals = buckets.map((b) => [...b.counts.values()].reduce((a, n) => a + n, 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotWidth = WIDTH - LEFT - 6;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = plotWidth / buckets.length;
  const y = (value: number) => TOP + plotHeight - (value / max) * plotHeight;
  const shown = STACK.filter((status) => buckets.some((b) => b.counts.has(status)));
  return (
    <figure>
      <svg class="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="chart-title">
        <title id="chart-title">Deliveries per hour, last 24 hours (UTC)</title>
        {(max % 2 === 0 ? [0, max / 2, max] : [0, max]).map((tick) => (
          <g>
            <line x1={LEFT} x2={WIDTH - 6} y1={y(tick)} y2={y(tick)} />
            <text x={LEFT - 6} y={y(tick) + 3} text-anchor="end">
              {tick.toLocaleString("en-US")}
            </text>
          </g>
        ))}
        {buckets.map((bucket, i) => (
          <Bar bucket={bucket} x={LEFT + i * slot + 2} slot={slot} y={y} labelled={i % 3 === 0} />
        ))}
      </svg>
      <figcaption>
        <ul class="legend">
          {shown.map((status) => (
            <li class={`s-${status}`}>{status.replace("_", " ")}</li>
          ))}
        </ul>
        <span class="muted">Deliveries by the hour of their event, UTC.</span>
      </figcaption>
    </figure>
  );
}
