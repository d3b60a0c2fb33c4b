/**
 * What a million notifications cost on Workers Paid, from what the fan-out
 * measured per notification and Cloudflare's published prices (as of
 * November 2026; the amounts beyond each monthly allowance):
 * - Workers: $0.30 per million requests, $0.02 per million CPU ms
 *   (https://developers.cloudflare.com/workers/platform/pricing/). A queue
 *   consumer invocation is counted as a request here, to be safe.
 * - Queues: $0.40 per million operations; an operation is 64 KB (1 KB =
 *   1,000 bytes) written, read or deleted, so a message costs 3 per 64 KB
 *   (https://developers.cloudflare.com/queues/platform/pricing/).
 * - D1: $0.001 per million rows read, $1.00 per million rows written (an
 *   index entry written counts as a row), $0.75 per GB-month stored
 *   (https://developers.cloudflare.com/d1/platform/pricing/).
 * The included allowances ($5 a month buys 10 M requests, 30 M CPU ms,
 * 1 M queue operations, 25 B rows read, 50 M rows written, 5 GB) are left
 * out: these are marginal costs.
 */

export const PRICES = {
  requestsPerMillion: 0.3,
  cpuMsPerMillion: 0.02,
  queueOperationsPerMillion: 0.4,
  d1RowsReadPerMillion: 0.001,
  d1RowsWrittenPerMillion: 1.0,
  d1GbMonth: 0.75,
} as const;

/** Bytes per queue operation: 64 KB, 1 KB = 1,000 bytes. */
const QUEUE_OPERATION_BYTES = 64_000;

/**
 * Queue operations for the messages consumer invocations received: each
 * message is written and deleted once and read once per delivery (a retry
 * reads it again), each per 64 KB started; `bytes` (what was enqueued)
 * stands in for the messages' size, spread evenly over them.
 */
export function queueOperations(received: number, retried: number, bytes: number): number {
  const enqueued = received - retried;
  const perMessage = Math.max(1, Math.ceil(bytes / Math.max(1, enqueued) / QUEUE_OPERATION_BYTES));
  return (2 * enqueued + received) * perMessage;
}

/** What one delivered notification used, as measured. */
export interface PerNotification {
  requests: number;
  cpu_ms: number;
  queue_operations: number;
  d1_rows_read: number;
  d1_rows_written: number;
  /** Bytes it keeps in D1 while retained. */
  d1_bytes: number;
}

export interface CostLine {
  item: string;
  per_notification: number;
  per_million: number;
  dollars_per_million: number;
}

/** Dollars per million notifications, item by item; storage for `retentionDays` of keeping each. */
export function costPerMillion(per: PerNotification, retentionDays: number): { lines: CostLine[]; total: number } {
  const million = 1_000_000;
  const storageGbMonths = (per.d1_bytes * million) / 1e9 * (retentionDays / 30);
  const lines: CostLine[] = [
    line("Workers requests (webhooks and consumer invocations)", per.requests, PRICES.requestsPerMillion),
    line("Workers CPU ms", per.cpu_ms, PRICES.cpuMsPerMillion),
    line("Queue operations (write, read, delete per 64 KB)", per.queue_operations, PRICES.queueOperationsPerMillion),
    line("D1 rows read", per.d1_rows_read, PRICES.d1RowsReadPerMillion),
    line("D1 rows written (index entries included)", per.d1_rows_written, PRICES.d1RowsWrittenPerMillion),
    {
      item: `D1 storage (GB-months, kept ${retentionDays} days)`,
      per_notification: per.d1_bytes,
      per_million: storageGbMonths,
      dollars_per_million: storageGbMonths * PRICES.d1GbMonth,
    },
  ];
  return { lines, total: lines.reduce((sum, l) => sum + l.dollars_per_million, 0) };

  function line(item: string, perNotification: number, pricePerMillion: number): CostLine {
    const perMillion = perNotification * million;
    return { item, per_notification: perNotification, per_million: perMillion, dollars_per_million: (perMillion / million) * pricePerMillion };
  }
}
