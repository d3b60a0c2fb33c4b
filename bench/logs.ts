/**
 * Reads the Worker's structured log lines as workerd emits them: one
 * `delivery_batch` line per consumer invocation (D1 round trips,
 * subrequests), one `delivery` line per delivery, and any error line.
 */

/** The fields of a `delivery_batch` line the bench reports on. */
export interface DeliveryBatch {
  queue: string;
  messages: number;
  notifications: number;
  claimed: number;
  d1_round_trips: number;
  subrequests: number;
  /** What D1 reported reading and writing for the invocation (its `meta`). */
  d1_rows_read: number;
  d1_rows_written: number;
  /** Outcomes put on the queue for a later invocation to record (when D1 refused them), and such jobs written. */
  records_queued: number;
  records_written: number;
  acked: number;
  retried: number;
  /** When the line was logged (epoch ms). */
  at: number;
}

export class RelayLog {
  readonly batches: DeliveryBatch[] = [];
  /** `delivery` lines by status. */
  readonly deliveries: Record<string, number> = {};
  /** error-level lines and consumer errors, kept for the report. */
  readonly errors: string[] = [];
  private quiet: boolean;

  constructor(options: { quiet?: boolean } = {}) {
    this.quiet = options.quiet ?? true;
  }

  /** Feeds one log message (a whole console line). */
  add(message: string, level = "info", at = Date.now()): void {
    const line = message.trim();
    if (!line.startsWith("{")) {
      if (level === "error" || level === "warn") this.keepError(line);
      return;
    }
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (entry.event === "delivery_batch") this.batches.push({ ...(entry as unknown as DeliveryBatch), at });
    else if (entry.event === "delivery") {
      const status = String(entry.status);
      this.deliveries[status] = (this.deliveries[status] ?? 0) + 1;
    } else if (entry.level === "error" || entry.event === "consumer_error") this.keepError(line);
  }

  /** Batches logged since `since` (epoch ms). */
  batchesSince(since: number): DeliveryBatch[] {
    return this.batches.filter((b) => b.at >= since);
  }

  private keepError(line: string): void {
    if (this.errors.length < 50) this.errors.push(line);
    if (!this.quiet) console.error(`[worker] ${line}`);
  }
}
