/**
 * Seeds the relay's local D1 with `--week`'s ledger (week-data.ts)
 * directly, as the relay would have written it: each document deflated
 * (deflate-raw of its JSON, as src/db/doc-store.ts stores it) in
 * `ledger_docs`, its summary row in `ledger`; and the population's devices.
 * Multi-row INSERTs in batches of a few MB, within D1's limits: 20
 * documents a statement, each its own bound value (a document is some
 * tens of KB, far below 2 MB even as hex), and a JSON list of at most 1 MB
 * per value for the summaries and the devices.
 */
import { deflateRawSync } from "node:zlib";
import { databaseBytes } from "./d1-usage.ts";
import type { D1, D1Statement } from "./harness.ts";
import { type DocPlan, docsOf, planDay, Population, PROBE, prng, summarize, type User, type WeekDoc } from "./week-data.ts";

export interface WeekSeedOptions {
  perDay: number;
  days: number;
}

export interface WeekSeed {
  per_day: number;
  days: number;
  notifications: number;
  deliveries: number;
  documents: { fanout: number; singles: number };
  fanout_events: number;
  single_events: number;
  users: number;
  devices: number;
  /** The documents' deflated bytes, and their JSON's. */
  doc_bytes: number;
  json_bytes: number;
  seconds: number;
  database_bytes: number;
  /** Each document's bucket and deliveries, for checking what the reads count. */
  buckets: { bucket: number; deliveries: number }[];
  /** The planted user's notifications: how many, and the events they are in (newest last). */
  probe: { user_id: string; custom_id: string; notifications: number; events: { id: string; bucket: number }[] };
}

/** Documents bound to one INSERT (each its own BLOB parameter). */
const DOCS_PER_INSERT = 20;
/** A JSON list of rows per INSERT: half of D1's 2 MB per value. */
const JSON_BYTES = 1_000_000;
/** Bytes of documents per D1 batch (one round trip). */
const BATCH_BYTES = 8_000_000;

/**
 * INSERTs of the documents, DOCS_PER_INSERT a statement; the keys are our
 * own integers, written into the SQL. Each BLOB travels as hex and SQLite
 * turns it back (`unhex`): Miniflare's proxy from Node carries a string
 * several times faster than the same bytes as a Uint8Array.
 */
function docInserts(db: D1, docs: readonly { ref: WeekDoc; blob: Buffer }[]): D1Statement[] {
  const statements: D1Statement[] = [];
  for (let at = 0; at < docs.length; at += DOCS_PER_INSERT) {
    const chunk = docs.slice(at, at + DOCS_PER_INSERT);
    const values = chunk.map(({ ref }, k) => `(${ref.bucket}, ${ref.seq}, 1, 'seed', unhex(?${k + 1}))`).join(", ");
    statements.push(db.prepare(`INSERT INTO ledger_docs (bucket, seq, v, w, doc) VALUES ${values}`).bind(...chunk.map((d) => d.blob.toString("hex"))));
  }
  return statements;
}

/** JSON lists of `rows`, each at most JSON_BYTES. */
function jsonChunks(rows: readonly unknown[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (current.length > 0 && bytes + json.length > JSON_BYTES) {
      chunks.push(`[${current.join(",")}]`);
      [current, bytes] = [[], 0];
    }
    current.push(json);
    bytes += json.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

const SUMMARY_INSERT = `INSERT INTO ledger (bucket, seq, lo, hi, events, users, counts, open_at, notifications, created_at, updated_at)
  SELECT j.value->>'b', j.value->>'s', j.value->>'lo', j.value->>'hi', j.value->>'ev', j.value->>'us', j.value->>'co',
         j.value->>'oa', j.value->>'n', j.value->>'t', j.value->>'t'
  FROM json_each(?1) AS j`;

function summaryInserts(db: D1, docs: readonly WeekDoc[]): D1Statement[] {
  const rows = docs.map(({ bucket, seq, doc }) => {
    const s = summarize(doc);
    // Written when the claim's outcomes were: a few seconds after the event's second.
    const t = bucket * 1000 + 5_000;
    return { b: bucket, s: seq, lo: s.lo, hi: s.hi, ev: s.events, us: s.users, co: s.counts, oa: s.open_at, n: s.notifications, t };
  });
  return jsonChunks(rows).map((json) => db.prepare(SUMMARY_INSERT).bind(json));
}

/** The devices of the population (and the probe's), as registered a month ago. */
async function seedPopulationDevices(db: D1, users: Iterable<User>, now: number): Promise<number> {
  const rows = [];
  for (const user of users) {
    for (const d of user.devices) {
      rows.push({ t: d.token, p: d.provider, c: user.custom_id, u: user.user_id, pl: d.provider === "apns" ? "ios" : "android" });
    }
  }
  const at = now - 30 * 86_400_000;
  const statements = jsonChunks(rows).map((json) =>
    db
      .prepare(
        `INSERT INTO devices (token, provider, custom_id, user_id, platform, environment, created_at, updated_at)
         SELECT j.value->>'t', j.value->>'p', j.value->>'c', j.value->>'u', j.value->>'pl', 'production', ?2, ?2 FROM json_each(?1) AS j`,
      )
      .bind(json, at),
  );
  for (let i = 0; i < statements.length; i += 20) await db.batch(statements.slice(i, i + 20));
  return rows.length;
}

/** Collects documents, deflated, and writes them a batch at a time, one batch in flight while the next is made. */
class Writer {
  private docs: { ref: WeekDoc; blob: Buffer }[] = [];
  private bytes = 0;
  private inFlight: Promise<unknown> = Promise.resolve();
  docBytes = 0;
  jsonBytes = 0;

  private readonly db: D1;

  constructor(db: D1) {
    this.db = db;
  }

  async add(ref: WeekDoc): Promise<void> {
    const json = JSON.stringify(ref.doc);
    const blob = deflateRawSync(json);
    this.jsonBytes += json.length;
    this.docBytes += blob.byteLength;
    this.docs.push({ ref, blob });
    this.bytes += blob.byteLength;
    if (this.bytes >= BATCH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    const docs = this.docs;
    [this.docs, this.bytes] = [[], 0];
    await this.inFlight;
    if (docs.length === 0) return;
    const statements = [...docInserts(this.db, docs), ...summaryInserts(this.db, docs.map((d) => d.ref))];
    this.inFlight = this.db.batch(statements);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.inFlight;
  }
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Seeds `days` days of `perDay` notifications each, ending a minute ago
 * (the oldest an hour inside the 7-day window, so every read of the week
 * sees all of a 7-day seed while the bench runs), oldest first.
 */
export async function seedWeek(db: D1, options: WeekSeedOptions, now = Date.now()): Promise<WeekSeed> {
  const started = performance.now();
  const random = prng(20_261_120);
  const population = new Population(options.perDay);
  const end = Math.floor(now / 1000) - 60;
  const start = end - options.days * 86_400 + 3_600;
  const dayLength = (end - start) / options.days;
  const writer = new Writer(db);
  const seed = emptySeed(options, population);
  for (let day = 0; day < options.days; day++) {
    const plans = planDay(Math.floor(start + day * dayLength), Math.floor(start + (day + 1) * dayLength), options.perDay, population, random);
    for (const plan of plans) {
      const docs = docsOf(plan, population, now, random);
      tally(seed, plan, docs);
      for (const doc of docs) await writer.add(doc);
    }
    say(`  day ${day + 1} of ${options.days}: ${seed.notifications.toLocaleString("en-US")} notifications so far, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  await writer.close();
  seed.devices = await seedPopulationDevices(db, [...Array.from({ length: population.size }, (_, i) => population.user(i)), PROBE], now);
  seed.doc_bytes = writer.docBytes;
  seed.json_bytes = writer.jsonBytes;
  seed.seconds = (performance.now() - started) / 1000;
  seed.database_bytes = await databaseBytes(db);
  return seed;
}

function emptySeed(options: WeekSeedOptions, population: Population): WeekSeed {
  return {
    per_day: options.perDay,
    days: options.days,
    notifications: 0,
    deliveries: 0,
    documents: { fanout: 0, singles: 0 },
    fanout_events: 0,
    single_events: 0,
    users: population.size,
    devices: 0,
    doc_bytes: 0,
    json_bytes: 0,
    seconds: 0,
    database_bytes: 0,
    buckets: [],
    probe: { user_id: PROBE.user_id, custom_id: PROBE.custom_id!, notifications: 0, events: [] },
  };
}

/** Counts a plan's documents into the seed's figures, and where the probe is. */
function tally(seed: WeekSeed, plan: DocPlan, docs: readonly WeekDoc[]): void {
  for (const { bucket, doc } of docs) {
    seed.notifications += doc.n.length;
    seed.deliveries += doc.d.length;
    seed.buckets.push({ bucket, deliveries: doc.d.length });
    const probed = doc.n.filter((n) => n.c === PROBE.custom_id);
    for (const n of probed) seed.probe.events.push({ id: doc.ev[n.e]!, bucket });
    seed.probe.notifications += probed.length;
  }
  if (plan.kind === "fanout") {
    seed.fanout_events++;
    seed.documents.fanout += docs.length;
  } else {
    seed.single_events += plan.events;
    seed.documents.singles += docs.length;
  }
}
