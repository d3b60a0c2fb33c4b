/**
 * Local D1 is SQLite with its own, far larger limits. This wrapper enforces
 * D1's documented ones on every statement, so a test fails where production
 * would: at most 100 bound parameters, 100,000 bytes of SQL, and 2,000,000
 * bytes per string or BLOB (counted in UTF-8, as D1 stores text).
 */
const MAX_PARAMS = 100;
const MAX_SQL_BYTES = 100_000;
const MAX_VALUE_BYTES = 2_000_000;
const encoder = new TextEncoder();

export function withProductionLimits(db: D1Database): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const check = (sql: string, values: unknown[]) => {
    if (encoder.encode(sql).byteLength > MAX_SQL_BYTES) throw new Error("D1_ERROR: statement too long");
    if (values.length > MAX_PARAMS) throw new Error("D1_ERROR: too many SQL variables");
    for (const value of values) {
      if (typeof value === "string" && encoder.encode(value).byteLength > MAX_VALUE_BYTES) {
        throw new Error("D1_ERROR: string or blob too big: SQLITE_TOOBIG");
      }
    }
  };
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapper = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") {
          return (...values: unknown[]) => {
            check(sql, values);
            return wrap(target.bind(...values), sql);
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    real.set(wrapper, statement);
    return wrapper;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === "batch") return (statements: D1PreparedStatement[]) => target.batch(statements.map((s) => real.get(s) ?? s));
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
