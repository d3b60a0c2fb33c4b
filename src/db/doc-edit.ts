/**
 * The ledger's rules, applied to documents in memory: how a claim takes a
 * delivery, how an outcome lands, what a dead letter closes. Pure; the
 * write path (ledger-writes.ts) reads the documents, applies these, and
 * writes back what changed, checked by version.
 *
 * A working set holds the documents read for one step, copies them on
 * first change, and opens a new document per bucket for notifications no
 * document holds yet.
 */
import { type Doc, type DocDelivery, type DocNotification, emptyDoc, eventSlot, type StoredDoc } from "./doc";
import type { BucketQuery, DocWrite } from "./doc-store";
import { type DeliveryKey, type DeliveryStatus, type NotificationKey, notificationKey } from "./ledger";

/** A notification's text and recipient as a step brings it (null where a rejected one had nothing usable). */
export interface NotificationFields extends NotificationKey {
  bucket: number;
  receivedAt: number;
  userId: string | null;
  customId: string | null;
  title: string | null;
  body: string | null;
  path: string | null;
}

/** Where a notification is in the working set. */
interface Place {
  doc: Doc;
  n: number;
}


/**
 * A new document takes notifications up to about this much JSON; the next
 * ones open another document of the bucket. D1 stores at most 2,000,000
 * bytes in one value, and deflate can leave incompressible text (long
 * messages in a script it does not shrink) almost as large as it was, so
 * the limit leaves room for the outcomes the document gains later.
 */
export const MAX_NEW_DOC_BYTES = 1_000_000;
/** Room counted for a notification's deliveries beside its own JSON (a few devices' tokens, states, message ids). */
const DELIVERY_ROOM_BYTES = 600;

const encoder = new TextEncoder();
const sizeOf = (f: NotificationFields) =>
  encoder.encode(`${f.eventId}${f.userId ?? ""}${f.customId ?? ""}${f.title ?? ""}${f.body ?? ""}${f.path ?? ""}`).byteLength + DELIVERY_ROOM_BYTES;

export class WorkingSet {
  private readonly places = new Map<string, Place>();
  private readonly changed = new Set<Doc>();
  private readonly stored = new Map<Doc, StoredDoc>();
  /** New documents per bucket, the last one open for more, with its estimated size. */
  private readonly fresh = new Map<number, { doc: Doc; bytes: number }[]>();

  constructor(
    docs: readonly StoredDoc[],
    private readonly queries: ReadonlyMap<number, BucketQuery>,
    private readonly lastSeq: ReadonlyMap<number, number>,
  ) {
    for (const stored of docs) {
      const doc = structuredClone(stored.doc);
      this.stored.set(doc, stored);
      doc.n.forEach((n, at) => {
        const key = notificationKey({ eventId: doc.ev[n.e]!, index: n.i });
        if (!this.places.has(key)) this.places.set(key, { doc, n: at });
      });
    }
  }

  /** The notification's place, if a document holds it. */
  find(key: NotificationKey): Place | undefined {
    return this.places.get(notificationKey(key));
  }

  /** The notification's place, added to its bucket's new document if no document holds it. */
  ensure(fields: NotificationFields): Place {
    const found = this.find(fields);
    if (found) {
      if (fillMissing(found.doc.n[found.n]!, fields)) this.touch(found.doc);
      return found;
    }
    const doc = this.freshDoc(fields);
    doc.n.push({
      e: eventSlot(doc, fields.eventId),
      i: fields.index,
      r: fields.receivedAt,
      u: fields.userId,
      c: fields.customId,
      ti: fields.title,
      b: fields.body,
      pa: fields.path,
    });
    const place = { doc, n: doc.n.length - 1 };
    this.places.set(notificationKey(fields), place);
    return place;
  }

  /** The new document of the notification's bucket with room for it. */
  private freshDoc(fields: NotificationFields): Doc {
    const docs = this.fresh.get(fields.bucket) ?? [];
    this.fresh.set(fields.bucket, docs);
    const bytes = sizeOf(fields);
    let last = docs.at(-1);
    if (!last || (last.bytes + bytes > MAX_NEW_DOC_BYTES && last.doc.n.length > 0)) {
      last = { doc: emptyDoc(), bytes: 0 };
      docs.push(last);
    }
    last.bytes += bytes;
    return last.doc;
  }

  /** The deliveries of a notification. */
  deliveries(place: Place): DocDelivery[] {
    return place.doc.d.filter((d) => d.n === place.n);
  }

  /** The delivery of a notification to `token`. */
  delivery(place: Place, token: string): DocDelivery | undefined {
    return place.doc.d.find((d) => d.n === place.n && d.t === token);
  }

  /** Adds a delivery to the notification's document. */
  add(place: Place, delivery: Omit<DocDelivery, "n">): DocDelivery {
    const added = { n: place.n, ...delivery };
    place.doc.d.push(added);
    this.touch(place.doc);
    return added;
  }

  /** Removes the notification's deliveries that `drop` picks. */
  remove(place: Place, drop: (d: DocDelivery) => boolean): void {
    const before = place.doc.d.length;
    place.doc.d = place.doc.d.filter((d) => d.n !== place.n || !drop(d));
    if (place.doc.d.length !== before) this.touch(place.doc);
  }

  /** Marks a document of the set as changed (its deliveries were edited in place). */
  touch(doc: Doc): void {
    this.changed.add(doc);
  }

  /** A document of the set as it was read; undefined for a new one. */
  readAs(doc: Doc): StoredDoc | undefined {
    return this.stored.get(doc);
  }

  /** The notification's entry in its document. */
  notification(place: Place): DocNotification {
    return place.doc.n[place.n]!;
  }

  /** Every write the changes need: updates of changed documents, inserts of new ones. */
  writes(): DocWrite[] {
    const writes: DocWrite[] = [];
    for (const doc of this.changed) {
      const stored = this.stored.get(doc);
      if (stored) writes.push({ kind: "update", stored, doc });
    }
    for (const [bucket, docs] of this.fresh) {
      for (const { doc } of docs) {
        const query = this.queries.get(bucket) ?? { bucket, events: doc.ev, lo: 0, hi: 0 };
        writes.push({ kind: "insert", bucket, doc, query, after: this.lastSeq.get(bucket) ?? 0 });
      }
    }
    return writes;
  }
}

/** A rejected notification's nulls are filled by a valid delivery of it; a complete one stays. */
function fillMissing(n: DocNotification, f: NotificationFields): boolean {
  if (f.userId === null || f.title === null || f.body === null || f.path === null) return false;
  if (n.u !== null && n.ti !== null && n.b !== null && n.pa !== null) return false;
  Object.assign(n, { u: f.userId, c: f.customId, ti: f.title, b: f.body, pa: f.path });
  return true;
}

/**
 * The bucket queries of a step's notifications: per bucket, its events and
 * the index range they span (what a document holding them must meet).
 */
export function bucketQueries(notifications: readonly { bucket: number; eventId: string; index: number }[]): Map<number, BucketQuery> {
  const queries = new Map<number, { bucket: number; events: Set<string>; lo: number; hi: number }>();
  for (const n of notifications) {
    const q = queries.get(n.bucket);
    if (q) {
      q.events.add(n.eventId);
      q.lo = Math.min(q.lo, n.index);
      q.hi = Math.max(q.hi, n.index);
    } else queries.set(n.bucket, { bucket: n.bucket, events: new Set([n.eventId]), lo: n.index, hi: n.index });
  }
  return new Map([...queries].map(([b, q]) => [b, { ...q, events: [...q.events] }]));
}

/**
 * The last document each bucket had when it was read: a document written
 * after the read has a higher `seq` (an insert takes the bucket's highest
 * plus one), and an insert is checked against those alone.
 */
export function lastSeqPerBucket(docs: readonly StoredDoc[]): Map<number, number> {
  const last = new Map<number, number>();
  for (const d of docs) last.set(d.bucket, Math.max(last.get(d.bucket) ?? 0, d.seq));
  return last;
}

/**
 * A delivery nobody is working on: `retrying`, due or not, or `sending`
 * whose lease ran out. What closes deliveries (a removed device) acts on these.
 */
export const isOpen = (d: DocDelivery, now: number): boolean => d.s === "retrying" || (d.s === "sending" && (d.cu ?? 0) < now);

/**
 * An open delivery a consumer may claim now: `retrying` once due by
 * `dueBy` (so a duplicate cannot jump the wait a provider asked for), or
 * `sending` once its lease ran out.
 */
export const isClaimable = (d: DocDelivery, now: number, dueBy: number): boolean =>
  (d.s === "retrying" && (d.na ?? 0) <= dueBy) || (d.s === "sending" && (d.cu ?? 0) < now);

/** A document's delivery, in the ledger's key. */
export const keyOfDelivery = (doc: Doc, d: DocDelivery): DeliveryKey => {
  const n = doc.n[d.n]!;
  return { eventId: doc.ev[n.e]!, index: n.i, token: d.t };
};

/** Sets a delivery's state, stamping the time. */
export function setState(d: DocDelivery, state: Partial<Omit<DocDelivery, "n" | "t" | "c">> & { s: DeliveryStatus }, now: number): void {
  Object.assign(d, state, { u: now });
  for (const key of ["er", "dt", "id", "na", "cb", "cu", "l"] as const) if (d[key] === null || d[key] === undefined) delete d[key];
}
