/**
 * The ledger's write path: what the consumer claims and records, what the
 * dead-letter consumer closes, and what the webhook rejects. Each step
 * reads the documents that hold its notifications (doc-store.ts), applies
 * the ledger's rules to them in memory (doc-edit.ts) and writes back what
 * changed in one transaction, checked by version: a step that lost a race
 * to another invocation reads again and decides again.
 */
import { type AlarmInput, type AlertChanges, recordAlarms } from "./alerts";
import { type Doc, type DocRef, ksuidSeconds, refKey, type StoredDoc } from "./doc";
import { bucketQueries, isClaimable, isOpen, keyOfDelivery, type NotificationFields, lastSeqPerBucket, setState, WorkingSet } from "./doc-edit";
import { applyWrites, type BucketQuery, bucketsOfUntimedEvents, docsStatement, eventDocs, type LedgerStep, readDocs, readDocsByRef } from "./doc-store";
import { DEVICE_QUARANTINED, type DeliveryKey, deliveryKey, type DeliveryStatus, type NotificationKey, notificationKey, type QUIET_HOURS } from "./ledger";
import { importLegacy, legacyRecordStatements } from "./legacy";
import { type PruneInput, type PruneResult, pruneDevices } from "./pruning";
import { readStaged } from "./staged";
import { revisitStatement } from "./sweep-marks";

/** A notification as the ledger keeps it: text and recipient, stored once for all its devices. */
export interface LedgerNotification extends NotificationKey {
  /** The event's bucket: its own time in unix seconds (doc.ts eventBucket). */
  bucket: number;
  /** When the webhook accepted the event (epoch ms). */
  receivedAt: number;
  userId: string;
  customId: string | null;
  title: string;
  body: string;
  path: string;
}

/** A delivery the consumer wants to own: a notification for a device, or its "no device" placeholder (token ''). */
export interface DeliveryTarget extends DeliveryKey {
  provider: string | null;
  app: string | null;
  /** On a placeholder: the user has devices, all held by the pruning brake (`failed` `device_quarantined`, replayable). */
  held?: boolean;
}

/** The ledger's view of a delivery after the claim. */
export interface ClaimedRow extends DeliveryKey {
  status: DeliveryStatus;
  /** The claim id of the invocation that owns a `sending` delivery. */
  claimedBy: string | null;
  /** Lease end (epoch ms) of a `sending` delivery. */
  claimedUntil: number | null;
  /** When a `retrying` delivery is due (epoch ms). */
  nextAttemptAt: number | null;
  /** Send attempts so far, this claim's included. */
  attempts: number;
  /** Why a final delivery failed (a placeholder's `device_quarantined`, say). */
  error: string | null;
}

export interface Claim {
  /** Every notification of the batch, once. */
  notifications: readonly LedgerNotification[];
  /** Deliveries to claim. */
  fresh: readonly DeliveryTarget[];
  /** Deliveries of a replay: they may also take over `failed` ones. */
  replay: readonly DeliveryTarget[];
  /** Notifications that now resolve to devices: their earlier "no device" placeholders are dropped. */
  withDevices: readonly NotificationKey[];
}

export interface ClaimOptions {
  claimId: string;
  now: number;
  leaseUntil: number;
  /** `retrying` deliveries due by then may be claimed (epoch ms); default `now`. */
  dueBy?: number;
}

/** What a claim found and wrote: every delivery of its notifications, and the documents as they now are. */
export interface Claimed {
  rows: ClaimedRow[];
  docs: StoredDoc[];
}

/** Reads and writes a step retries when another invocation wrote the same documents first. */
export const MAX_TRIES = 8;

/** A step's documents changed under it more than MAX_TRIES times. */
export class LedgerContentionError extends Error {
  constructor(step: LedgerStep) {
    super(`ledger_contention: the ${step} step lost ${MAX_TRIES} races for the same documents`);
  }
}

/** A step of the write path: which notifications' documents it reads (or starts from, read beside another query). */
interface EditStep {
  step: LedgerStep;
  notifications: readonly { bucket: number; eventId: string; index: number }[];
  now: number;
  firstRead?: StoredDoc[];
}

/**
 * Reads the documents of the step's notifications, lets `edit` change
 * them, and writes the changes, until every write took. Resolves with the
 * documents as they now are (read or written).
 */
async function editDocs(db: D1Database, { step, notifications, now, firstRead }: EditStep, edit: (set: WorkingSet) => void): Promise<StoredDoc[]> {
  const queries = bucketQueries(notifications);
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const read = attempt === 1 && firstRead ? firstRead : await readDocs(db, [...queries.values()]);
    const set = new WorkingSet(read, queries, lastSeqPerBucket(read));
    edit(set);
    const { written } = await applyWrites(db, step, set.writes(), now);
    if (written.every((w) => w !== null)) return current(read, written as StoredDoc[]);
  }
  throw new LedgerContentionError(step);
}

/** The documents read, with those written replaced by what was written. */
function current(read: readonly StoredDoc[], written: readonly StoredDoc[]): StoredDoc[] {
  const byRef = new Map(read.map((d) => [refKey(d), d]));
  for (const d of written) byRef.set(refKey(d), d);
  return [...byRef.values()];
}

/**
 * The notifications with the bucket the ledger already files their events
 * under, for events whose ids do not say it (doc-store.ts
 * bucketsOfUntimedEvents); `moved` when one changed, so a read made with
 * the old buckets is stale.
 */
async function withKnownBuckets<T extends { eventId: string; bucket: number }>(db: D1Database, notifications: readonly T[], now: number): Promise<{ notifications: T[]; moved: boolean }> {
  const known = await bucketsOfUntimedEvents(db, [...new Set(notifications.map((n) => n.eventId))], now);
  let moved = false;
  const placed = notifications.map((n) => {
    const bucket = known.get(n.eventId);
    if (bucket === undefined || bucket === n.bucket) return n;
    moved = true;
    return { ...n, bucket };
  });
  return { notifications: placed, moved };
}

/** The claim's read of the documents, to run in one round trip with the recipients' query; parseDocs reads its result. */
export const claimReadStatement = (db: D1Database, notifications: readonly LedgerNotification[]): D1PreparedStatement =>
  docsStatement(db, [...bucketQueries(notifications).values()]);

/** A delivery as the claim reports it. */
function claimedRow(set: WorkingSet, place: Parameters<WorkingSet["deliveries"]>[0], d: StoredDoc["doc"]["d"][number]): ClaimedRow {
  const n = set.notification(place);
  return {
    eventId: place.doc.ev[n.e]!,
    index: n.i,
    token: d.t,
    status: d.s,
    claimedBy: d.cb ?? null,
    claimedUntil: d.cu ?? null,
    nextAttemptAt: d.na ?? null,
    attempts: d.k,
    error: d.er ?? null,
  };
}

/**
 * Claims the deliveries and returns the ledger state of every delivery of
 * their notifications. A delivery is ours to send when it comes back
 * `sending` with our claim id; any other is final, `retrying` and not yet
 * due, or owned by a concurrent invocation (a duplicate webhook in flight).
 */
export async function claimDeliveries(db: D1Database, given: Claim, options: ClaimOptions, firstRead?: StoredDoc[]): Promise<Claimed> {
  const placed = await withKnownBuckets(db, given.notifications, options.now);
  const claim = { ...given, notifications: placed.notifications };
  const dueBy = options.dueBy ?? options.now;
  const fields = new Map(claim.notifications.map((n) => [notificationKey(n), n]));
  const targets = [...claim.fresh.map((t) => ({ t, replay: false })), ...claim.replay.map((t) => ({ t, replay: true }))];
  const withDevices = new Set(claim.withDevices.map(notificationKey));
  const legacy = await importLegacy(db, claim.notifications);
  let rows: ClaimedRow[] = [];
  const docs = await editDocs(db, { step: "claim", notifications: claim.notifications, now: options.now, firstRead: placed.moved ? undefined : firstRead }, (set) => {
    legacy.addTo(set);
    for (const n of claim.notifications) {
      const place = set.ensure(n);
      // Valid now: a `rejected` placeholder from an earlier delivery of the event goes; so does "no device" once there is one.
      set.remove(place, (d) => d.t === "" && (d.s === "rejected" || (withDevices.has(notificationKey(n)) && (d.s === "no_device" || d.s === "failed"))));
    }
    for (const { t, replay } of targets) {
      const place = set.find(t) ?? set.ensure(fields.get(notificationKey(t))!);
      const existing = set.delivery(place, t.token);
      if (existing && !isClaimable(existing, options.now, dueBy) && !(replay && existing.s === "failed")) continue;
      const state = claimState(t, options);
      if (existing) {
        setState(existing, { ...state, k: existing.k + state.k }, options.now);
        set.touch(place.doc);
      } else set.add(place, { t: t.token, ...state, c: options.now, u: options.now });
    }
    rows = claim.notifications.flatMap((n) => {
      const place = set.find(n)!;
      return set.deliveries(place).map((d) => claimedRow(set, place, d));
    });
  });
  return { rows, docs };
}

/** What a claim writes on a delivery: `sending` under our lease, or a placeholder's final state. */
function claimState(t: DeliveryTarget, options: ClaimOptions) {
  if (t.token !== "") return { p: t.provider, a: t.app, s: "sending" as const, k: 1, cb: options.claimId, cu: options.leaseUntil };
  return t.held
    ? { p: null, a: null, s: "failed" as const, k: 0, er: DEVICE_QUARANTINED }
    : { p: null, a: null, s: "no_device" as const, k: 0 };
}

/** A claimed delivery that goes back unsent: until when (default now), and why (default `deferred`). */
export interface Released extends DeliveryKey {
  until?: number;
  reason?: typeof QUIET_HOURS;
}

/** The outcome of one claimed delivery. */
export interface Outcome extends DeliveryKey {
  /** `no_device` only from a provider that reaches users rather than devices (OneSignal). */
  status: Exclude<DeliveryStatus, "sending" | "rejected" | "held">;
  /** The provider's message id (sent). */
  providerId?: string | null;
  /** Provider reason or our code (invalid_token, retrying, failed). */
  error?: string | null;
  /** The provider's own words about the failure (trimmed, never a token; src/push/detail.ts). */
  detail?: string;
  /** When to try again, epoch ms (retrying). */
  nextAttemptAt?: number | null;
  /** From the webhook's acceptance to the provider's answer, ms. */
  latencyMs?: number | null;
}

/**
 * Besides the outcomes, the batch's answers about tokens (PruneInput: dead
 * ones are removed, or quarantined by the pruning brake) and about our
 * settings (AlarmInput: alerts raised and cleared).
 */
export interface RecordOptions extends PruneInput, AlarmInput {
  claimId: string;
  now: number;
  /** The documents the claim wrote; missing from a record queued by an earlier version (its events are looked up). */
  docs?: readonly DocRef[];
  /** APNs tokens that turned out to belong to the other environment. */
  environmentFixes: readonly { token: string; environment: "production" | "sandbox" }[];
  /** Open deliveries (`retrying`, or `sending` past its lease) for devices that no longer exist. */
  orphans: readonly DeliveryKey[];
  /**
   * Deliveries this claim took but never sent: `retrying` again, and the
   * claim's attempt is not counted. Due at once when the invocation's
   * budget ran out (`deferred`); at `until` when held for the quiet hours.
   */
  released?: readonly Released[];
}

/** What the record transaction decided besides the outcomes. */
export interface Recorded {
  pruned: PruneResult;
  alerts: AlertChanges;
  /** Outcomes whose delivery was not this claim's any more: nothing was written for them. Never expected. */
  missed: DeliveryKey[];
}

const FIX_ENVIRONMENTS = `
UPDATE devices SET environment = j.value->>'env', updated_at = ?2
FROM json_each(?1) AS j WHERE devices.token = j.value->>'t'`;

/**
 * Writes the outcomes of this invocation's claims, in one transaction (more
 * only if another invocation wrote one of the documents meanwhile); null
 * when there was nothing to write. `cached` are the documents as the claim
 * left them: when nobody wrote them since, no read is needed.
 */
export async function recordOutcomes(
  db: D1Database,
  outcomes: readonly Outcome[],
  options: RecordOptions,
  cached: readonly StoredDoc[] = [],
): Promise<Recorded | null> {
  const { now, claimId } = options;
  const extras: D1PreparedStatement[] = [];
  if (options.environmentFixes.length > 0) {
    extras.push(db.prepare(FIX_ENVIRONMENTS).bind(JSON.stringify(options.environmentFixes.map((f) => ({ t: f.token, env: f.environment }))), now));
  }
  // A record queued by the previous version: its outcomes may still belong on the previous ledger's rows.
  if (options.docs === undefined) extras.push(...legacyRecordStatements(db, outcomes, claimId, now));
  const pruning = pruneDevices(db, options, now);
  const alarms = recordAlarms(db, options, now);
  extras.push(...pruning.statements, ...alarms.statements);
  const released = options.released ?? [];
  if (outcomes.length + options.orphans.length + released.length === 0 && extras.length === 0) return null;

  const refs = options.docs ?? (await refsOfEvents(db, [...outcomes, ...options.orphans, ...released], now));
  let docs = cachedOr(cached, refs) ?? (await readDocsByRef(db, refs));
  let pending: D1PreparedStatement[] | null = extras;
  let results: D1Result[] = [];
  const matched = new Set<string>();
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const set = new WorkingSet(docs, new Map(), new Map());
    const landed = applyOutcomes(set, { outcomes, orphans: options.orphans, released, claimId, now });
    const writes = set.writes();
    const applied = await applyWrites(db, "record", writes, now, pending ?? []);
    if (pending !== null) results = applied.results;
    pending = null;
    // An outcome counts as written only with its document's write; a lost race is read and applied again.
    writes.forEach((write, i) => {
      if (applied.written[i] !== null) for (const key of landed.get(write.doc) ?? []) matched.add(key);
    });
    if (applied.written.every((w) => w !== null)) {
      const [pruned, alerts] = readStaged<[PruneResult, AlertChanges]>(results.slice(results.length - pruning.statements.length - alarms.statements.length), pruning, alarms);
      const missed = outcomes.filter((o) => !matched.has(deliveryKey(o))).map(({ eventId, index, token }) => ({ eventId, index, token }));
      return { pruned, alerts, missed };
    }
    docs = await readDocsByRef(db, refs);
  }
  throw new LedgerContentionError("record");
}

/** The cached documents, if they are exactly those of `refs`. */
function cachedOr(cached: readonly StoredDoc[], refs: readonly DocRef[]): StoredDoc[] | null {
  if (cached.length === 0) return null;
  const byRef = new Map(cached.map((d) => [refKey(d), d]));
  const docs = refs.map((r) => byRef.get(refKey(r)));
  return docs.every((d) => d !== undefined) ? (docs as StoredDoc[]) : null;
}

/** The documents holding these events, found by their ids (a record queued by an earlier version does not carry them). */
async function refsOfEvents(db: D1Database, keys: readonly DeliveryKey[], now: number): Promise<DocRef[]> {
  const refs = new Map<string, DocRef>();
  for (const eventId of new Set(keys.map((k) => k.eventId))) {
    for (const d of await eventDocs(db, eventId, ksuidSeconds(eventId, now), now)) refs.set(refKey(d), { bucket: d.bucket, seq: d.seq });
  }
  return [...refs.values()];
}

interface OutcomeEdits {
  outcomes: readonly Outcome[];
  orphans: readonly DeliveryKey[];
  released: readonly Released[];
  claimId: string;
  now: number;
}

/**
 * The record step's rules: an outcome lands on a delivery this claim still
 * owns; orphans close; released deliveries go back. Returns, per document,
 * the outcomes that landed in it.
 */
function applyOutcomes(set: WorkingSet, edits: OutcomeEdits): Map<Doc, string[]> {
  const { claimId, now } = edits;
  const landed = new Map<Doc, string[]>();
  const at = (key: DeliveryKey) => {
    const place = set.find(key);
    return place ? { place, d: set.delivery(place, key.token) } : undefined;
  };
  for (const o of edits.outcomes) {
    const found = at(o);
    if (!found?.d || found.d.cb !== claimId) continue;
    setState(found.d, { s: o.status, id: o.providerId ?? null, er: o.error ?? null, dt: o.detail ?? null, na: o.nextAttemptAt ?? null, l: o.latencyMs ?? null, cb: null, cu: null }, now);
    set.touch(found.place.doc);
    const keys = landed.get(found.place.doc) ?? [];
    keys.push(deliveryKey(o));
    landed.set(found.place.doc, keys);
  }
  for (const key of edits.orphans) {
    const found = at(key);
    if (!found?.d || !isOpen(found.d, now)) continue;
    setState(found.d, { s: "failed", er: "device_removed", cb: null, cu: null, na: null }, now);
    set.touch(found.place.doc);
  }
  for (const r of edits.released) {
    const found = at(r);
    if (!found?.d || found.d.cb !== claimId) continue;
    setState(found.d, { s: "retrying", k: Math.max(0, found.d.k - 1), er: r.reason ?? "deferred", na: r.until ?? now, cb: null, cu: null }, now);
    set.touch(found.place.doc);
  }
  return landed;
}

/**
 * A delivery a dead letter leaves to its owner: `sending` under a live
 * lease (its holder may yet record an outcome), or `retrying` and not due
 * yet (another message waits for it: a group split off, a duplicate's retry).
 */
export interface HeldRow extends DeliveryKey {
  /** When the delivery is the dead letter's to close if still open (epoch ms): the lease's end, or a minute past its due time. */
  until: number;
}

/**
 * A minute past a waiting delivery's due time, the message that waits for
 * it has claimed it (then it is `sending` under a live lease) or is not coming.
 */
export const DEAD_LETTER_DUE_MARGIN_MS = 60_000;

/**
 * Dead letters: every delivery of these notifications that is open and
 * nobody else's (`retrying` and due, or `sending` past its lease) becomes
 * `failed` `retries_exhausted`, and a notification that never got a
 * delivery gets a failed placeholder, so the ledger shows it and a replay
 * can resend it. Deliveries another message still owns are left alone and
 * returned: the caller comes back when they would be its.
 */
export async function recordDeadLetters(db: D1Database, letters: readonly LedgerNotification[], now: number): Promise<HeldRow[]> {
  if (letters.length === 0) return [];
  const { notifications } = await withKnownBuckets(db, letters, now);
  const legacy = await importLegacy(db, notifications);
  let held: HeldRow[] = [];
  await editDocs(db, { step: "dead_letter", notifications, now }, (set) => {
    legacy.addTo(set);
    held = [];
    for (const n of notifications) {
      const place = set.ensure(n);
      const deliveries = set.deliveries(place);
      if (deliveries.length === 0) {
        set.add(place, { t: "", p: null, a: null, s: "failed", k: 0, er: "retries_exhausted", c: now, u: now });
        continue;
      }
      for (const d of deliveries) {
        if (isClaimable(d, now, now)) {
          setState(d, { s: "failed", er: "retries_exhausted", cb: null, cu: null, na: null }, now);
          set.touch(place.doc);
        } else if (d.s === "sending") held.push({ ...keyOfDelivery(place.doc, d), until: d.cu ?? now });
        else if (d.s === "retrying") held.push({ ...keyOfDelivery(place.doc, d), until: (d.na ?? now) + DEAD_LETTER_DUE_MARGIN_MS });
      }
    }
  });
  return held;
}

/**
 * Notes that the event is being replayed: the retention sweep keeps its
 * documents while the replay may be on the queue, and the abandoned sweep
 * looks at its bucket again, behind its mark, should the replay's message be lost.
 */
export async function markReplayed(db: D1Database, eventId: string, bucket: number, now: number): Promise<void> {
  await db.batch([
    db
      .prepare("INSERT INTO replays (event_id, bucket, replayed_at) VALUES (?1, ?2, ?3) ON CONFLICT (event_id) DO UPDATE SET replayed_at = ?3")
      .bind(eventId, bucket, now),
    revisitStatement(db, bucket),
  ]);
}

/** A notification that failed validation at the webhook, with whichever of its fields were usable text. */
export interface Rejection {
  index: number;
  /** What was wrong, e.g. `data.notifications[3].title: must be a non-empty string`. */
  error: string;
  notification: {
    user_id: string | null;
    custom_id: string | null;
    title: string | null;
    body: string | null;
    path: string | null;
  };
}

/**
 * Records an event's rejected notifications: each (what was usable of it)
 * with one `rejected` placeholder. Idempotent: a notification the ledger
 * already holds (a repeated webhook, or a valid delivery) is left as it is.
 */
export async function recordRejections(
  db: D1Database,
  event: { eventId: string; bucket: number; receivedAt: number },
  rejections: readonly Rejection[],
): Promise<void> {
  if (rejections.length === 0) return;
  const fields: NotificationFields[] = rejections.map((r) => ({
    eventId: event.eventId,
    index: r.index,
    bucket: event.bucket,
    receivedAt: event.receivedAt,
    userId: r.notification.user_id,
    customId: r.notification.custom_id,
    title: r.notification.title,
    body: r.notification.body,
    path: r.notification.path,
  }));
  const errors = new Map(rejections.map((r) => [r.index, r.error]));
  const { notifications: placed } = await withKnownBuckets(db, fields, event.receivedAt);
  await editDocs(db, { step: "rejection", notifications: placed, now: event.receivedAt }, (set) => {
    for (const f of placed) {
      if (set.find(f)) continue;
      const place = set.ensure(f);
      set.add(place, { t: "", p: null, a: null, s: "rejected", k: 0, er: errors.get(f.index)!, c: event.receivedAt, u: event.receivedAt });
    }
  });
}

export type { BucketQuery };
