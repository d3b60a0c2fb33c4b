/**
 * The lists that span events read the documents their summaries match a
 * page of documents at a time (summaries.ts walkDocs). A list's page may
 * end inside a page of documents or inside a bucket: the next must resume
 * exactly after it, and no page may read more documents than it needs.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recentFailures } from "../../src/db/console-reads";
import { type DeliveryRow, newestFirst, type RowKey } from "../../src/db/delivery-rows";
import { DOCS_PER_PAGE } from "../../src/db/doc-store";
import { LEDGER_READS_SQL, userDeliveries } from "../../src/db/ledger-reads";
import { type LedgerNotification, recordDeadLetters } from "../../src/db/ledger-writes";
import { uniqueId } from "../support/ids";

/**
 * A user's notifications, dead-lettered (a failed placeholder each), two
 * to an event and each event written alone, so each is a document of its
 * own: `documents` of them spread over `seconds` buckets.
 */
async function writeDocuments(customId: string, documents: number, seconds: number): Promise<LedgerNotification[]> {
  const base = Math.floor(Date.now() / 1000) - 3_600;
  const written: LedgerNotification[] = [];
  for (let i = 0; i < documents; i++) {
    const bucket = base - (i % seconds);
    const eventId = uniqueId("msg_w");
    const pair = [0, 1].map((index) => ({ eventId, index, bucket, receivedAt: bucket * 1000, userId: uniqueId("usr"), customId, title: "t", body: "b", path: "/p" }));
    await recordDeadLetters(env.DB, pair, Date.now());
    written.push(...pair);
  }
  return written;
}

/** Every row of a list, `limit` a page, each page asked for after the last row of the one before. */
async function everyRow(list: (after: RowKey | undefined) => Promise<DeliveryRow[]>, limit: number): Promise<DeliveryRow[]> {
  const rows: DeliveryRow[] = [];
  for (let page = await list(undefined); ; page = await list(page.at(-1))) {
    rows.push(...page);
    if (page.length < limit) return rows;
  }
}

const keyOf = (row: Pick<DeliveryRow, "event_id" | "idx">) => `${row.event_id}#${row.idx}`;
const keysOf = (written: readonly LedgerNotification[]) => written.map((n) => keyOf({ event_id: n.eventId, idx: n.index })).sort();

describe("lists read documents a page at a time", () => {
  // More documents to a second than to a page of them: pages of rows and of documents end inside a second.
  it("walks a user's deliveries across pages of documents, each once, newest first", async () => {
    const user = uniqueId("walker");
    const written = await writeDocuments(user, 2 * DOCS_PER_PAGE + 5, 2);
    const rows = await everyRow((after) => userDeliveries(env.DB, { by: "custom_id", id: user }, 7, after, Date.now()), 7);
    expect(rows.map(keyOf)).toEqual([...rows].sort(newestFirst).map(keyOf));
    expect(rows.map(keyOf).sort()).toEqual(keysOf(written));
  });

  it("walks the failures across pages of documents, each once, newest first", async () => {
    const written = await writeDocuments(uniqueId("failing"), 2 * DOCS_PER_PAGE + 5, 2);
    const rows = await everyRow((after) => recentFailures(env.DB, 9, after, Date.now()), 9);
    expect(rows.map(keyOf)).toEqual([...rows].sort(newestFirst).map(keyOf));
    expect(new Set(rows.map(keyOf)).size).toBe(rows.length);
    expect(rows.map(keyOf)).toEqual(expect.arrayContaining(keysOf(written)));
  });

  it("reads on until the page's last second is whole, and no further", async () => {
    // 60 documents, 30 to a second: the first page of documents ends inside the first second, the second completes it.
    const user = uniqueId("reader");
    await writeDocuments(user, 3 * DOCS_PER_PAGE, 2);
    let queries = 0;
    const counted = {
      prepare: (sql: string) => {
        if (sql === LEDGER_READS_SQL.userDeliveries) queries++;
        return env.DB.prepare(sql);
      },
    } as unknown as D1Database;
    expect(await userDeliveries(counted, { by: "custom_id", id: user }, 5, undefined, Date.now())).toHaveLength(5);
    expect(queries).toBe(2);
  });
});
