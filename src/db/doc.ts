/**
 * The ledger's document (migration 0014, docs/ledger.md): what one claim
 * wrote, and every later step rewrote, about the notifications of one
 * bucket (the events of one second). Pure: no D1 here. The store
 * (doc-store.ts) reads and writes documents; the write path
 * (ledger-writes.ts) changes their deliveries by the rules of ledger.ts.
 *
 * Field names are short: a document of a fan-out holds a few hundred
 * deliveries, and every byte is stored for 30 days.
 */
import { type DeliveryStatus, QUIET_HOURS } from "./ledger";

/** A notification as the document keeps it; fields are null where a rejected notification had nothing usable. */
export interface DocNotification {
  /** Position of its event id in `Doc.ev`. */
  e: number;
  /** Index in the event's `data.notifications[]`. */
  i: number;
  /** When the webhook accepted the event (epoch ms). */
  r: number;
  u: string | null;
  c: string | null;
  ti: string | null;
  b: string | null;
  pa: string | null;
  /** When the user first opened it (epoch ms). */
  o?: number;
}

/** A delivery: one notification for one device (token '' for a placeholder: no device, rejected, held). */
export interface DocDelivery {
  /** Position of its notification in `Doc.n`. */
  n: number;
  t: string;
  p: string | null;
  a: string | null;
  s: DeliveryStatus;
  /** Send attempts. */
  k: number;
  er?: string | null;
  /** The provider's own words about a failure. */
  dt?: string | null;
  /** The provider's message id (sent), or Expo's ticket. */
  id?: string | null;
  /** When a `retrying` delivery is due (epoch ms). */
  na?: number | null;
  /** The claim that is sending it, and its lease's end. */
  cb?: string | null;
  cu?: number | null;
  /** From the webhook's acceptance to the provider's answer (ms). */
  l?: number | null;
  c: number;
  u: number;
}

export interface Doc {
  ev: string[];
  n: DocNotification[];
  d: DocDelivery[];
}

/** Where a document is: its bucket (the event's unix second) and its place in the bucket. */
export interface DocRef {
  bucket: number;
  seq: number;
}

/** A document as read: where it is, its version, and its content. */
export interface StoredDoc extends DocRef {
  v: number;
  doc: Doc;
}

export const refKey = (ref: DocRef): string => `${ref.bucket}:${ref.seq}`;

export const emptyDoc = (): Doc => ({ ev: [], n: [], d: [] });

/** The position of an event id in the document, added if new. */
export function eventSlot(doc: Doc, eventId: string): number {
  const at = doc.ev.indexOf(eventId);
  if (at >= 0) return at;
  doc.ev.push(eventId);
  return doc.ev.length - 1;
}

/** The document's notification (position) for (event, index), or -1. */
export function findNotification(doc: Doc, eventId: string, index: number): number {
  const e = doc.ev.indexOf(eventId);
  if (e < 0) return -1;
  return doc.n.findIndex((n) => n.e === e && n.i === index);
}

/** The event id of a delivery or notification of the document. */
export const eventOf = (doc: Doc, n: DocNotification): string => doc.ev[n.e]!;

const OPEN: ReadonlySet<DeliveryStatus> = new Set(["sending", "retrying"]);

/** What the reads scan about a document (the `ledger` row beside it). */
export interface DocSummary {
  lo: number;
  hi: number;
  events: string;
  users: string;
  counts: string;
  openAt: number | null;
  notifications: number;
}

/** A JSON array of the document's recipients, `u:<user_id>` and `c:<custom_id>`, each once. */
export function usersOf(doc: Doc): string[] {
  const users = new Set<string>();
  for (const n of doc.n) {
    if (n.u !== null) users.add(`u:${n.u}`);
    if (n.c !== null) users.add(`c:${n.c}`);
  }
  return [...users];
}

/** The summary a document's `ledger` row carries. */
export function summarize(doc: Doc): DocSummary {
  let lo = Number.MAX_SAFE_INTEGER;
  let hi = -1;
  for (const n of doc.n) {
    lo = Math.min(lo, n.i);
    hi = Math.max(hi, n.i);
  }
  const counts: Record<string, number> = {};
  let openAt: number | null = null;
  for (const d of doc.d) {
    const key = `${d.p ?? "none"}|${d.a ?? "none"}|${shown(d)}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (OPEN.has(d.s)) {
      const at = d.s === "sending" ? (d.cu ?? 0) : (d.na ?? 0);
      openAt = openAt === null ? at : Math.min(openAt, at);
    }
  }
  return {
    lo: hi < 0 ? 0 : lo,
    hi: Math.max(hi, 0),
    events: JSON.stringify(doc.ev),
    users: JSON.stringify(usersOf(doc)),
    counts: JSON.stringify(counts),
    openAt,
    notifications: doc.n.length,
  };
}

/** A delivery's status as the API and console show it: `retrying` for the quiet hours shows as `held`. */
export const shown = (d: Pick<DocDelivery, "s" | "er">): string => (d.s === "retrying" && d.er === QUIET_HOURS ? "held" : d.s);

/**
 * The bucket of an event: its own time in unix seconds, the same for every
 * delivery of it (Svix's retries, dashboard replays, our replays). A Svix
 * message id is a KSUID, which carries the second Svix created it; any
 * other id falls back to the envelope's `timestamp`, then to the time the
 * webhook accepted it (which a repeated delivery would not share). A time
 * is taken only within the retention window before `receivedAt` (and an
 * hour after, for clocks): an id or timestamp that says otherwise is not
 * the event's time, and would file it where no window looks.
 */
export function eventBucket(eventId: string, envelopeTimestamp: unknown, receivedAt: number): number {
  return ksuidSeconds(eventId, receivedAt) ?? timestampSeconds(envelopeTimestamp, receivedAt) ?? Math.floor(receivedAt / 1000);
}

const KSUID_EPOCH = 1_400_000_000;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SVIX_ID = /^msg_[0-9A-Za-z]{27}$/;
/** How far before `around` an event's own time may lie: the retention window (30 days) and a day. */
const BEFORE_MS = 31 * 86_400_000;
/** How far after `around`: an hour of clock difference between Svix, LearnInk and us. */
const AFTER_MS = 3_600_000;

const plausible = (ms: number, around: number): number | null =>
  Number.isFinite(ms) && ms >= around - BEFORE_MS && ms <= around + AFTER_MS ? Math.floor(ms / 1000) : null;

/**
 * The unix second a Svix message id (`msg_` and a base62 KSUID) was made,
 * if it lies within the window around `around` (epoch ms: when the webhook
 * came, or now for a look-up); null for any other id. A look-up uses the
 * same window as the webhook did, so it reads the bucket the event went to.
 */
export function ksuidSeconds(eventId: string, around: number): number | null {
  if (!SVIX_ID.test(eventId)) return null;
  let value = 0n;
  for (const char of eventId.slice(4)) value = value * 62n + BigInt(BASE62.indexOf(char));
  return plausible((Number(value >> 128n) + KSUID_EPOCH) * 1000, around);
}

function timestampSeconds(value: unknown, around: number): number | null {
  const ms = typeof value === "string" ? Date.parse(value) : typeof value === "number" ? (value < 1e11 ? value * 1000 : value) : Number.NaN;
  return plausible(ms, around);
}
