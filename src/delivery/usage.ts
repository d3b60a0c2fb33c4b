/**
 * Counts what one consumer invocation spends: of its subrequest allowance,
 * every fetch and every D1 call (a query or a batch is one round trip
 * each); of D1's billing, the rows each call read and wrote, as D1 reports
 * them in `meta`.
 */

export interface Usage {
  fetches: number;
  d1: number;
  /** D1's `meta.rows_read` summed (billed per million rows read). */
  rowsRead: number;
  /** D1's `meta.rows_written` summed, index updates included (billed per million rows written). */
  rowsWritten: number;
}

export const newUsage = (): Usage => ({ fetches: 0, d1: 0, rowsRead: 0, rowsWritten: 0 });

/** Adds the rows a D1 result (or a batch's results) reports. */
function addRows(usage: Usage, result: unknown): void {
  for (const r of Array.isArray(result) ? result : [result]) {
    const meta = (r as Partial<D1Result> | null)?.meta;
    if (!meta) continue;
    usage.rowsRead += meta.rows_read ?? 0;
    usage.rowsWritten += meta.rows_written ?? 0;
  }
}

/** `fetch`, counted. */
export function countingFetch(usage: Usage): typeof fetch {
  return (input, init) => {
    usage.fetches++;
    return fetch(input, init);
  };
}

const EXECUTORS = new Set<PropertyKey>(["run", "all", "first", "raw"]);

/** `db`, with each query and batch counted in `usage.d1`. */
export function countingD1(db: D1Database, usage: Usage): D1Database {
  // D1 checks that batched statements are its own: keep the real one behind each wrapper.
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapper = new Proxy(statement, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (EXECUTORS.has(prop)) {
          return async (...args: unknown[]) => {
            usage.d1++;
            const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            addRows(usage, result);
            return result;
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
    real.set(wrapper, statement);
    return wrapper;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql));
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          usage.d1++;
          const results = await target.batch(statements.map((s) => real.get(s) ?? s));
          addRows(usage, results);
          return results;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
