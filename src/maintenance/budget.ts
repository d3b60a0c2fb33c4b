/**
 * What one hourly run of a sweep may spend. The sweeps share one scheduled
 * invocation, and D1 answers at most 1,000 queries per Worker invocation on
 * Workers Paid (50 on Free; developers.cloudflare.com/d1/platform/limits):
 * a query is a call to D1, one statement or one batch. Each sweep gets a
 * share, and whatever it leaves the next run takes on.
 */

/** Calls per run: retention, the conversion of the previous ledger, the abandoned deliveries; the quarantine's dozen fit in what is left. */
export const CALLS_PER_RUN = { retention: 300, conversion: 450, abandoned: 200 } as const;

/**
 * Wall time one sweep may take. A scheduled invocation may run 15 minutes
 * (developers.cloudflare.com/workers/platform/limits/#duration); the
 * sweeps run side by side.
 */
export const SWEEP_MS = 5 * 60_000;

export class Budget {
  /** D1 calls made so far. */
  calls = 0;
  private readonly started: number;

  constructor(
    private readonly maxCalls: number,
    private readonly maxMs: number = SWEEP_MS,
    private readonly clock: () => number = Date.now,
  ) {
    this.started = clock();
  }

  /** Whether `calls` more fit in the budget. */
  allows(calls = 1): boolean {
    return this.calls + calls <= this.maxCalls && this.clock() - this.started < this.maxMs;
  }

  /** Counts calls made elsewhere (a read or write helper of src/db). */
  spend(calls = 1): void {
    this.calls += calls;
  }

  /** Runs one statement as a call of the budget; resolves with the rows it changed. */
  async run(statement: D1PreparedStatement): Promise<number> {
    this.calls++;
    return (await statement.run()).meta.changes ?? 0;
  }

  /** Runs one query as a call of the budget; resolves with its rows. */
  async all<T>(statement: D1PreparedStatement): Promise<T[]> {
    this.calls++;
    return (await statement.all<T>()).results;
  }

  /** Runs statements as one transaction, one call of the budget. */
  async batch(db: D1Database, statements: D1PreparedStatement[]): Promise<D1Result[]> {
    this.calls++;
    return db.batch(statements);
  }
}
