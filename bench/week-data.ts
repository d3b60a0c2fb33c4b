/**
 * A week of the ledger as the relay would have written it (migration 0014,
 * src/db/doc.ts), made up in Node for `--week`: fan-out events (documents
 * of 500 notifications, several per event, all in the event's second) and
 * streams of single reminders (documents of about 50 one-notification
 * events of the same second), every event id a Svix-like KSUID whose
 * second is its bucket. The shapes and the summary mirror src/db/doc.ts,
 * whose module does not load in Node; the bench checks the result through
 * the Worker's own reads (week.ts).
 */
import { createHash } from "node:crypto";
import { newMessageId } from "../standins/learnink.ts";

/** src/db/doc.ts's document, as far as the bench writes it. */
export interface DocNotification {
  e: number;
  i: number;
  r: number;
  u: string | null;
  c: string | null;
  ti: string | null;
  b: string | null;
  pa: string | null;
}

export interface DocDelivery {
  n: number;
  t: string;
  p: string | null;
  a: string | null;
  s: string;
  k: number;
  er?: string;
  id?: string;
  na?: number;
  l?: number;
  c: number;
  u: number;
}

export interface Doc {
  ev: string[];
  n: DocNotification[];
  d: DocDelivery[];
}

/** A document and its place: the bucket (the event's unix second) and its number within the bucket. */
export interface WeekDoc {
  bucket: number;
  seq: number;
  doc: Doc;
}

/** The `ledger` row beside a document (src/db/doc.ts summarize). */
export interface Summary {
  lo: number;
  hi: number;
  events: string;
  users: string;
  counts: string;
  open_at: number | null;
  notifications: number;
}

/** Notifications of a fan-out document: 50 queue messages of 10, one claim. */
export const FANOUT_DOC = 500;
/** Single-reminder events per document: a consumer batch of them in one second. */
export const SINGLES_DOC = 50;
/**
 * The mix: most of LearnInk's volume is scheduled reminders and
 * announcements to a whole organisation (fan-outs); the rest is one
 * person's messages. The singles' share is what makes the ledger big in
 * rows: a fan-out document holds 500 notifications, a singles one 50.
 */
export const FANOUT_SHARE = 0.8;
/** A fan-out's size: an organisation of 1,000 to 20,000 people. */
const FANOUT_SIZES = [1_000, 20_000] as const;
/** Notifications a user gets a day, on average: a million a day go to 250,000 people. */
const NOTIFICATIONS_PER_USER_PER_DAY = 4;

/** A small fast PRNG (mulberry32), seeded: two runs seed the same sizes, recipients and statuses (the event ids are random). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const digest = (text: string) => createHash("sha256").update(text).digest();
const base62 = (bytes: Buffer, length: number) => Array.from(bytes.subarray(0, length), (b) => BASE62[b % 62]).join("");

/** A user's device: FCM (a ~160-character registration token) or APNs (64 hex). */
export interface Device {
  provider: "fcm" | "apns";
  token: string;
}

export interface User {
  user_id: string;
  custom_id: string | null;
  devices: Device[];
}

/** FCM registration tokens: an instance id, ":APA91b", then opaque base64url, about 160 characters. */
function fcmToken(seed: string): string {
  const a = createHash("sha512").update(seed).digest("base64url");
  const b = createHash("sha512").update(`${seed}:2`).digest("base64url");
  return `${a.slice(0, 22)}:APA91b${(a.slice(22) + b).slice(0, 134)}`;
}

/**
 * The users a relay at `perDay` notifications a day sends to: a `usr_`
 * id each, a custom id for half, one device (60 % FCM, 40 % APNs), a
 * second for one in ten, none for one in 33 (their notifications are
 * recorded `no_device`). Made on first use and kept.
 */
export class Population {
  readonly size: number;
  private readonly users = new Map<number, User>();
  constructor(perDay: number) {
    this.size = Math.max(1_000, Math.round(perDay / NOTIFICATIONS_PER_USER_PER_DAY));
  }

  user(index: number): User {
    let user = this.users.get(index);
    if (user) return user;
    const d = digest(`user:${index}`);
    const primary: Device["provider"] = index % 5 < 3 ? "fcm" : "apns";
    const providers: Device["provider"][] = index % 33 === 5 ? [] : index % 10 === 7 ? [primary, primary === "fcm" ? "apns" : "fcm"] : [primary];
    user = {
      user_id: `usr_${base62(d, 12)}`,
      custom_id: index % 2 === 0 ? `emp-${100_000 + index}` : null,
      devices: providers.map((provider, k) => ({
        provider,
        token: provider === "fcm" ? fcmToken(`${index}:${k}`) : digest(`apns:${index}:${k}`).toString("hex"),
      })),
    };
    this.users.set(index, user);
    return user;
  }
}

/** The user the bench looks up: planted into a few documents every day, and in no other. */
export const PROBE: User = {
  user_id: "usr_probe0week01",
  custom_id: "emp-probe-0001",
  devices: [{ provider: "fcm", token: fcmToken("probe") }],
};

/** What one event of the week says: title, body, path, each the same for all its notifications. */
interface Text { ti: string; b: string; pa: string }

const COURSES = ["Fire safety", "Data protection", "Customer care", "Forklift basics", "Hygiene 101", "Code of conduct", "First aid"];

function textOf(random: () => number): Text {
  const course = COURSES[Math.floor(random() * COURSES.length)]!;
  const id = 100 + Math.floor(random() * 900);
  return random() < 0.5
    ? { ti: "Time for your training", b: `${course} is waiting for you: about 10 minutes.`, pa: `/courses/${id}` }
    : { ti: `Reminder: ${course}`, b: `Please complete ${course} by Friday.`, pa: `/courses/${id}/lessons/1` };
}

/** The provider's message id for a sent push: FCM's message name, APNs's apns-id (a UUID). */
function providerId(provider: Device["provider"], random: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
  return provider === "fcm"
    ? `projects/learnink-prod/messages/0:${Math.floor(random() * 1e15)}%${hex(16)}`
    : `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`.toUpperCase();
}

const ERRORS = { fcm: "UNREGISTERED", apns: "BadDeviceToken" } as const;
/** Deliveries of the last RETRY_SPAN_S seconds may still be waiting for a retry. */
const RETRY_SPAN_S = 2 * 3_600;

/** A notification's deliveries: one per device, mostly sent, a few failed, invalid or (lately) retrying; a placeholder without a device. */
function deliveriesOf(n: number, user: User, acceptedAt: number, bucket: number, now: number, random: () => number): DocDelivery[] {
  const c = acceptedAt + 300 + Math.floor(random() * 2_000);
  if (user.devices.length === 0) return [{ n, t: "", p: null, a: null, s: "no_device", k: 0, c, u: c }];
  return user.devices.map(({ provider, token }): DocDelivery => {
    const l = 80 + Math.floor(random() * 400);
    const base = { n, t: token, p: provider, a: "default", c, u: c + l - 50 };
    const roll = random();
    if (roll < 0.006) return { ...base, s: "invalid_token", k: 1, er: ERRORS[provider], l };
    if (roll < 0.009) return { ...base, s: "failed", k: 10, er: "retries_exhausted", u: c + 5 * 3_600_000 };
    if (roll < 0.014 && bucket * 1000 > now - RETRY_SPAN_S * 1000) {
      return { ...base, s: "retrying", k: 2, er: "UNAVAILABLE", na: now + 60_000 + Math.floor(random() * 1_800_000) };
    }
    return { ...base, s: "sent", k: 1, id: providerId(provider, random), l };
  });
}

/** A notification and its deliveries, appended to `doc`. */
function addNotification(doc: Doc, e: number, i: number, user: User, text: Text, bucket: number, now: number, random: () => number): void {
  const r = bucket * 1000 + 200 + Math.floor(random() * 800);
  const n = doc.n.length;
  doc.n.push({ e, i, r, u: user.user_id, c: user.custom_id, ti: text.ti, b: text.b, pa: text.pa });
  doc.d.push(...deliveriesOf(n, user, r, bucket, now, random));
}

/** A planned document: which kind, where, and for the singles how many events. */
export type DocPlan =
  | { kind: "fanout"; bucket: number; eventId: string; size: number; text: Text; start: number; probe: number[] }
  | { kind: "singles"; bucket: number; events: number; probe: number };

/** The seconds of a day's span, each taken once. */
function uniqueSeconds(from: number, to: number, random: () => number, taken: Set<number>): () => number {
  return () => {
    for (;;) {
      const s = from + Math.floor(random() * (to - from));
      if (!taken.has(s)) return (taken.add(s), s);
    }
  };
}

/**
 * One day's events, oldest first: fan-outs (FANOUT_SHARE of `perDay`) of
 * 1,000 to 20,000 notifications each, and single reminders in documents
 * of SINGLES_DOC; the probe planted into two fan-out documents and one
 * singles document (as far as the day has them).
 */
export function planDay(from: number, to: number, perDay: number, population: Population, random: () => number): DocPlan[] {
  const second = uniqueSeconds(from, to, random, new Set());
  const plans: DocPlan[] = [];
  for (let left = Math.round(perDay * FANOUT_SHARE); left > 0; ) {
    let size = Math.min(left, FANOUT_SIZES[0] + Math.floor(random() * (FANOUT_SIZES[1] - FANOUT_SIZES[0])));
    if (left - size < FANOUT_DOC) size = left;
    left -= size;
    const bucket = second();
    const start = Math.floor(random() * population.size);
    plans.push({ kind: "fanout", bucket, eventId: newMessageId(bucket * 1000), size, text: textOf(random), start, probe: [] });
  }
  for (let left = perDay - Math.round(perDay * FANOUT_SHARE); left > 0; left -= SINGLES_DOC) {
    plans.push({ kind: "singles", bucket: second(), events: Math.min(SINGLES_DOC, left), probe: -1 });
  }
  plant(plans, random);
  return plans.sort((a, b) => a.bucket - b.bucket);
}

/** Puts the probe in place of a recipient in two fan-out documents and one singles document. */
function plant(plans: DocPlan[], random: () => number): void {
  const fanouts = plans.filter((p) => p.kind === "fanout");
  const singles = plans.filter((p) => p.kind === "singles");
  for (let k = 0; k < 2 && fanouts.length > 0; k++) {
    const plan = fanouts[Math.floor(random() * fanouts.length)]!;
    const index = Math.floor(random() * plan.size);
    if (!plan.probe.includes(index)) plan.probe.push(index);
  }
  const single = singles[Math.floor(random() * singles.length)];
  if (single) single.probe = Math.floor(random() * single.events);
}

/** The documents of a plan: a fan-out's, FANOUT_DOC notifications each (its recipients a run of the population, as an organisation's are); a singles plan's one. */
export function docsOf(plan: DocPlan, population: Population, now: number, random: () => number): WeekDoc[] {
  if (plan.kind === "singles") {
    const doc: Doc = { ev: [], n: [], d: [] };
    for (let e = 0; e < plan.events; e++) {
      doc.ev.push(newMessageId(plan.bucket * 1000));
      const user = e === plan.probe ? PROBE : population.user(Math.floor(random() * population.size));
      addNotification(doc, e, 0, user, textOf(random), plan.bucket, now, random);
    }
    return [{ bucket: plan.bucket, seq: 1, doc }];
  }
  const docs: WeekDoc[] = [];
  for (let lo = 0, seq = 1; lo < plan.size; lo += FANOUT_DOC, seq++) {
    const doc: Doc = { ev: [plan.eventId], n: [], d: [] };
    for (let i = lo; i < Math.min(plan.size, lo + FANOUT_DOC); i++) {
      const user = plan.probe.includes(i) ? PROBE : population.user((plan.start + i) % population.size);
      addNotification(doc, 0, i, user, plan.text, plan.bucket, now, random);
    }
    docs.push({ bucket: plan.bucket, seq, doc });
  }
  return docs;
}

/** src/db/doc.ts summarize(): what the `ledger` row says about a document. */
export function summarize(doc: Doc): Summary {
  let lo = Number.MAX_SAFE_INTEGER;
  let hi = -1;
  const users = new Set<string>();
  for (const n of doc.n) {
    lo = Math.min(lo, n.i);
    hi = Math.max(hi, n.i);
    if (n.u !== null) users.add(`u:${n.u}`);
    if (n.c !== null) users.add(`c:${n.c}`);
  }
  const counts: Record<string, number> = {};
  let openAt: number | null = null;
  for (const d of doc.d) {
    const key = `${d.p ?? "none"}|${d.a ?? "none"}|${d.s}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (d.s === "retrying") openAt = Math.min(openAt ?? Number.MAX_SAFE_INTEGER, d.na ?? 0);
  }
  return {
    lo: hi < 0 ? 0 : lo,
    hi: Math.max(hi, 0),
    events: JSON.stringify(doc.ev),
    users: JSON.stringify([...users]),
    counts: JSON.stringify(counts),
    open_at: openAt,
    notifications: doc.n.length,
  };
}
