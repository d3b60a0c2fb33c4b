import type { LedgerStep } from "../../src/db/doc-store";

/**
 * D1 with injected failures and races: the real binding, except that a
 * `batch` whose statements match a test's rule throws the way D1 does when
 * it cannot be reached, so a test can break one step (the record step, the
 * dead-letter write) and leave the rest working; or waits for another
 * write to land first, so a test can make a step lose its race.
 */

/** What a failing batch throws (the text D1 gives when its storage is unreachable). */
export const D1_UNAVAILABLE = "D1_ERROR: Network connection lost.";

export interface FailingD1 {
  db: D1Database;
  /** Batches refused so far. */
  failures: number;
}

/**
 * `db`, except that `batch` throws while `fails(sql)` holds for the SQL of
 * one of its statements and fewer than `times` batches were refused.
 */
export function failingD1(db: D1Database, fails: (sql: string) => boolean, times = Number.POSITIVE_INFINITY): FailingD1 {
  const state: FailingD1 = {
    failures: 0,
    db: beforeBatches(db, async (sqls) => {
      if (state.failures < times && sqls.some(fails)) {
        state.failures++;
        throw new Error(D1_UNAVAILABLE);
      }
    }),
  };
  return state;
}

/**
 * `db`, except that before the first `batch` with a statement whose SQL
 * `matches`, `race` runs: another invocation's write landing between a
 * step's read and its write.
 */
export function racingD1(db: D1Database, matches: (sql: string) => boolean, race: () => Promise<unknown>): D1Database {
  let raced = false;
  return beforeBatches(db, async (sqls) => {
    if (raced || !sqls.some(matches)) return;
    raced = true;
    await race();
  });
}

/** `db`, with `hook` awaited before each `batch`, given the SQL of its statements. */
function beforeBatches(db: D1Database, hook: (sqls: string[]) => Promise<void>): D1Database {
  // D1 checks that batched statements are its own: keep the real one, and its SQL, behind each wrapper.
  const real = new WeakMap<object, { statement: D1PreparedStatement; sql: string }>();
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapper = new Proxy(statement, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values), sql);
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
    real.set(wrapper, { statement, sql });
    return wrapper;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const unwrapped = statements.map((s) => real.get(s) ?? { statement: s, sql: "" });
          await hook(unwrapped.map(({ sql }) => sql));
          return target.batch(unwrapped.map(({ statement }) => statement));
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A document write of this ledger step (doc-store.ts labels each). */
export const isLedgerStep = (step: LedgerStep) => (sql: string): boolean => sql.startsWith(`/* ledger ${step} */`);

/** The record step's write of outcomes (ledger-writes.ts recordOutcomes). */
export const isRecordStep = isLedgerStep("record");
