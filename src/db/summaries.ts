/**
 * Scans of the ledger's summary rows (`ledger`, migration 0014): the lists
 * that span events (a user's deliveries, the failures, the events) walk
 * them newest first by their primary key, a whole bucket at a time, and
 * read a document only where its summary matched.
 *
 * Why a scan and no index: D1 bills each index entry written, and the
 * ledger must cost per claim, not per delivery (migration 0014). Scanning
 * the narrow summary rows is what stays cheap instead: finding one user in
 * a week at a million notifications a day took 0.27 s with `instr` over a
 * narrow table of user lists (0.04 s for a day; measured on SQLite, the
 * engine under D1), far inside D1's 30 s per query, and rows read cost
 * $0.001 a million.
 */
import type { DeliveryStatus } from "./ledger";

/** How far back a user's deliveries are listed: the week the design asks for, a bounded scan at any volume. */
export const USER_LOOKBACK_SECONDS = 7 * 86_400;

/** The first bucket of a lookback ending now. */
export const sinceBucket = (now: number, seconds: number): number => Math.floor(now / 1000) - seconds;

/** Above every bucket: where a list starts before it has a cursor. */
export const TOP_BUCKET = Number.MAX_SAFE_INTEGER;

/**
 * The condition of a scan newest first. `match(alias)` is a condition on a
 * `ledger` row; the scan takes the rows that match in the `?3` newest
 * buckets below `?2` that have a match, every one of those buckets whole
 * (a page never stops inside a bucket, so what sorts within it is all
 * there), and the matches of bucket `?2` itself (where the previous page
 * stopped). `?1` is the oldest bucket looked at; `match` binds from `?4`.
 * Both walks are ranges of the primary key.
 */
export const newestBuckets = (match: (alias: string) => string): string =>
  `l.bucket BETWEEN COALESCE((SELECT MIN(bucket) FROM (SELECT DISTINCT h.bucket FROM ledger AS h
     WHERE h.bucket BETWEEN ?1 AND ?2 - 1 AND ${match("h")} ORDER BY h.bucket DESC LIMIT ?3)), ?2) AND ?2 AND ${match("l")}`;

/** A key of a summary's `counts`: `provider|app|status` ('none' without a device), split. */
export interface CountKey {
  provider: string;
  app: string;
  status: DeliveryStatus;
}

/** Splits a `counts` key; neither a provider name nor a status holds a `|`, so whatever is between them is the app. */
export function countKey(key: string): CountKey {
  const first = key.indexOf("|");
  const last = key.lastIndexOf("|");
  return { provider: key.slice(0, first), app: key.slice(first + 1, last), status: key.slice(last + 1) as DeliveryStatus };
}

/** A `counts` object's deliveries by status. */
export function countsByStatus(counts: Record<string, number>, into: Partial<Record<DeliveryStatus, number>> = {}): Partial<Record<DeliveryStatus, number>> {
  for (const [key, n] of Object.entries(counts)) {
    const { status } = countKey(key);
    into[status] = (into[status] ?? 0) + n;
  }
  return into;
}
