/**
 * One consumer invocation's bookkeeping: the report it logs and returns
 * (for tests and the benchmark), and the settling of its messages, each
 * acked or retried exactly once, with the report counting both.
 */
import { log } from "../log";
import type { Usage } from "./usage";

/** What one invocation did; logged as one line and returned for tests and the benchmark. */
export interface BatchReport {
  messages: number;
  notifications: number;
  claimed: number;
  /** Claimed rows not started because the time or subrequest budget ran out. */
  deferred: number;
  /** Rows left `retrying` because they are not due yet (a duplicate or early message). */
  notDue: number;
  /** Claimed rows held for the quiet hours on their device's clock. */
  held: number;
  outcomes: Record<string, number>;
  /** The consumer's own D1 round trips: lookup, claim, record. */
  d1RoundTrips: number;
  /** Everything counted against the invocation's limit: fetches and every D1 call (the above and the credential cache's). */
  subrequests: number;
  /** Rows D1 read and wrote for this invocation (its `meta`): what D1 bills. */
  d1RowsRead: number;
  d1RowsWritten: number;
  /** RecordJobs this invocation queued because D1 refused its outcomes (see record-later.ts). */
  recordsQueued: number;
  /** RecordJobs of earlier invocations this one wrote. */
  recordsWritten: number;
  /** Claimed rows the record step found no longer this claim's (an internal error: their messages wait for the lease). */
  recordMissed: number;
  /** ReceiptJobs queued for the Expo pushes this invocation sent (read 15 minutes later). */
  receiptReadsQueued: number;
  acked: number;
  retried: number;
  /** Message id -> delay in seconds, for every retried message. */
  retryDelays: Record<string, number>;
  /** Messages queued for groups that wait apart from the rest of their message (delays.ts). */
  split: number;
}

export function newReport(messages: number): BatchReport {
  return {
    messages,
    notifications: 0,
    claimed: 0,
    deferred: 0,
    notDue: 0,
    held: 0,
    outcomes: {},
    d1RoundTrips: 0,
    subrequests: 0,
    d1RowsRead: 0,
    d1RowsWritten: 0,
    recordsQueued: 0,
    recordsWritten: 0,
    recordMissed: 0,
    receiptReadsQueued: 0,
    acked: 0,
    retried: 0,
    retryDelays: {},
    split: 0,
  };
}

/** Counts one more outcome of `status`. */
export const countOutcome = (report: BatchReport, status: string) => {
  report.outcomes[status] = (report.outcomes[status] ?? 0) + 1;
};

/** Acks and retries the batch's messages, once each, and counts them in the report. */
export class Settler {
  private readonly settled = new Set<string>();

  constructor(private readonly report: BatchReport) {}

  ack(message: Message<unknown>): void {
    this.settled.add(message.id);
    message.ack();
    this.report.acked++;
  }

  retry(message: Message<unknown>, delaySeconds: number): void {
    this.settled.add(message.id);
    message.retry({ delaySeconds });
    this.report.retried++;
    this.report.retryDelays[message.id] = delaySeconds;
  }

  isSettled(message: Message<unknown>): boolean {
    return this.settled.has(message.id);
  }
}

/** The invocation's one log line, with what D1 and the network were asked for. */
export function logBatch(queue: string, report: BatchReport, usage: Usage): void {
  report.subrequests = usage.fetches + usage.d1;
  report.d1RowsRead = usage.rowsRead;
  report.d1RowsWritten = usage.rowsWritten;
  log("delivery_batch", {
    queue,
    messages: report.messages,
    notifications: report.notifications,
    claimed: report.claimed,
    // Every outcome by status (`sent`, `retrying`, ...): a sent delivery has no line of its own (outcomes.ts).
    ...report.outcomes,
    deferred: report.deferred,
    not_due: report.notDue,
    held: report.held,
    d1_round_trips: report.d1RoundTrips,
    subrequests: report.subrequests,
    d1_rows_read: report.d1RowsRead,
    d1_rows_written: report.d1RowsWritten,
    records_queued: report.recordsQueued,
    records_written: report.recordsWritten,
    acked: report.acked,
    retried: report.retried,
    split: report.split,
    record_missed: report.recordMissed,
  });
}
