/**
 * Counts what one consumer invocation spends of its subrequest allowance:
 * every fetch, and every D1 call the providers' credential cache makes
 * (a query or a batch is one round trip each).
 */

export interface Usage {
  fetches: number;
  d1: number;
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
          return (...args: unknown[]) => {
            usage.d1++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
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
        return (statements: D1PreparedStatement[]) => {
          usage.d1++;
          return target.batch(statements.map((s) => real.get(s) ?? s));
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
