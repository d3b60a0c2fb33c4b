/**
 * Statements one module adds to a transaction another module runs (the
 * consumer's record step is one `db.batch`, one D1 round trip), and how it
 * reads their results back. Keeps the pruning brake and the alerts in their
 * own modules without a round trip of their own.
 */
export interface Staged<T> {
  statements: D1PreparedStatement[];
  /** Makes sense of the results of `statements`, in their order. */
  read(results: readonly D1Result[]): T;
}

/** Reads the results of `parts`, whose statements were run in this order at the end of a batch. */
export function readStaged<T extends unknown[]>(
  results: readonly D1Result[],
  ...parts: { [K in keyof T]: Staged<T[K]> }
): T {
  let at = results.length - parts.reduce((n, part) => n + part.statements.length, 0);
  return parts.map((part) => {
    const mine = results.slice(at, at + part.statements.length);
    at += part.statements.length;
    return part.read(mine);
  }) as T;
}
