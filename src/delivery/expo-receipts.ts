/**
 * Expo's push receipts, read about 15 minutes after the push, as Expo
 * recommends: a ticket says Expo took the message; its receipt says whether
 * APNs or FCM did. The consumer queues a ReceiptJob (delayed 15 minutes)
 * for the Expo pushes each batch sent, and reads it like any queue message:
 * one `getReceipts` request of up to 1,000 ids, then one D1 transaction.
 *
 * - DeviceNotRegistered: the token is dead; it goes through the pruning
 *   brake (removed, or quarantined in a burst) and the delivery becomes
 *   `invalid_token`.
 * - InvalidCredentials, MismatchSenderId: the app's credentials at Expo are
 *   wrong; the same alert a misconfigured send raises, and the delivery
 *   becomes `failed` (replayable once fixed).
 * - MessageRateExceeded: Expo throttled the push before handing it on:
 *   `failed`, and sent again after a backoff as a replay (resend.ts).
 * - Any other error (MessageTooBig, ...): `failed`.
 * - No receipt yet: asked for again 15 minutes later, up to RECEIPT_ROUNDS
 *   reads in all, then logged as missing (Expo keeps receipts 24 hours).
 */
import type { AcceptedPushes, MisconfiguredAnswers } from "../db/alerts";
import type { DeadToken } from "../db/pruning";
import { type ReceiptError, recordReceipts } from "../db/receipts";
import { utf8Bytes } from "../db/json-chunks";
import { log, shortToken } from "../log";
import { appSettings } from "../push/providers";
import { classifyReceipt } from "../push/expo/classify";
import { EXPO_MAX_RECEIPT_IDS, fetchReceipts } from "../push/expo/receipts";
import type { ProviderDeps } from "../push/provider";
import { enqueueJobs, MAX_MESSAGE_BYTES } from "../queue/enqueue";
import type { ReceiptJob } from "../queue/message";
import { retryDelaySeconds } from "./backoff";
import type { Attempted } from "./outcomes";
import { bucketOfJob } from "./plan";
import { resendThrottled } from "./resend";
import { logSignals } from "./signals";

/** Expo: "We recommend checking push receipts 15 minutes after sending". */
export const RECEIPT_DELAY_SECONDS = 15 * 60;
/** Reads of a ticket's receipt before it is given up as missing: 15, 30 and 45 minutes after the push. */
export const RECEIPT_ROUNDS = 3;
/** Attempts at one read that failed (429, 5xx, network, D1) before it is dropped with an error line. */
export const RECEIPT_MAX_ATTEMPTS = 6;

/** One ticket to read: its id, the device token, and the delivery it belongs to. */
interface Ticket {
  eventId: string;
  /** The event's ledger bucket (absent in jobs of the previous version). */
  bucket?: number;
  index: number;
  token: string;
  id: string;
}

/** The tickets of a batch's sent Expo pushes, as ReceiptJobs (per app, at most 1,000 ids and 120 KB each). */
export function receiptJobsFor(sent: readonly Attempted[], sentAt: number): ReceiptJob[] {
  const byApp = new Map<string, Ticket[]>();
  for (const { work, device, result } of sent) {
    if (device.provider !== "expo" || result.kind !== "sent" || result.id === "") continue;
    const tickets = byApp.get(device.app) ?? [];
    byApp.set(device.app, tickets);
    tickets.push({ eventId: work.job.event_id, bucket: bucketOfJob(work.job), index: work.n.i, token: device.token, id: result.id });
  }
  return [...byApp].flatMap(([app, tickets]) => packTickets({ app, round: 1, sentAt }, tickets));
}

/** Packs tickets into jobs of at most 1,000 ids and MAX_MESSAGE_BYTES. */
export function packTickets(
  { app, round, sentAt }: { app: string; round: number; sentAt: number | undefined },
  tickets: readonly Ticket[],
): ReceiptJob[] {
  const jobs: ReceiptJob[] = [];
  const empty = (): ReceiptJob => ({ v: 1, kind: "expo_receipts", app, round, ...(sentAt === undefined ? {} : { sent_at: sentAt }), events: [] });
  const baseBytes = utf8Bytes(JSON.stringify(empty()));
  let job = empty();
  let count = 0;
  let bytes = baseBytes;
  for (const ticket of tickets) {
    const entry: [string, string, number] = [ticket.id, ticket.token, ticket.index];
    let event = job.events.at(-1);
    // A new event entry costs its id and bucket too; the comma before each entry is the 1.
    const size = utf8Bytes(JSON.stringify(entry)) + 1 + (event?.e === ticket.eventId ? 0 : utf8Bytes(JSON.stringify(eventEntry(ticket))) + 1);
    if (count > 0 && (count >= EXPO_MAX_RECEIPT_IDS || bytes + size > MAX_MESSAGE_BYTES)) {
      jobs.push(job);
      job = empty();
      count = 0;
      bytes = baseBytes;
      event = undefined;
    }
    if (event?.e !== ticket.eventId) job.events.push((event = eventEntry(ticket)));
    event!.t.push(entry);
    count++;
    bytes += size;
  }
  if (count > 0) jobs.push(job);
  return jobs;
}

/** A job's entry for the ticket's event, its tickets to come. */
const eventEntry = (ticket: Ticket): ReceiptJob["events"][number] => ({ e: ticket.eventId, ...(ticket.bucket === undefined ? {} : { b: ticket.bucket }), t: [] });

const ticketsOf = (job: ReceiptJob): Ticket[] =>
  job.events.flatMap((event) => event.t.map(([id, token, index]) => ({ eventId: event.e, ...(event.b === undefined ? {} : { bucket: event.b }), index, token, id })));

/** Queues the receipt reads, RECEIPT_DELAY_SECONDS from now; never throws (a lost read costs no notification). */
export async function queueReceiptReads(queue: Queue, jobs: readonly ReceiptJob[], delaySeconds = RECEIPT_DELAY_SECONDS): Promise<number> {
  if (jobs.length === 0) return 0;
  try {
    await enqueueJobs(queue, jobs, { delaySeconds });
    return jobs.length;
  } catch (error) {
    const tickets = jobs.reduce((n, job) => n + ticketsOf(job).length, 0);
    log("consumer_error", { reason: "receipts_not_queued", provider: "expo", tickets, error: String(error) }, "warn");
    return 0;
  }
}

export interface ReceiptsDeps {
  /** For the getReceipts request (fetch counted against the invocation, clock, timeout). */
  provider: ProviderDeps;
  random: () => number;
}

/** What reading one ReceiptJob did. */
export type ReceiptRead = { kind: "done" } | { kind: "retry"; delaySeconds: number };

/** Reads one job's receipts and records what they say. Throws only what D1 threw (the caller retries). */
export async function readReceipts(job: ReceiptJob, attempts: number, env: Env, deps: ReceiptsDeps): Promise<ReceiptRead> {
  const tickets = ticketsOf(job);
  const settings = appSettings(env, job.app);
  if (settings.kind === "unavailable" || settings.missing.EXPO_ACCESS_TOKEN) {
    const setting = settings.kind === "unavailable" ? settings.setting : settings.missing.EXPO_ACCESS_TOKEN;
    log("expo_receipts", { app: job.app, tickets: tickets.length, reason: "provider_misconfigured", setting }, "error");
    return { kind: "done" };
  }
  const answer = await fetchReceipts(settings.values, tickets.map((t) => t.id), deps.provider);
  const giveUp = attempts >= RECEIPT_MAX_ATTEMPTS;
  if (answer.kind === "failed" || (answer.kind !== "receipts" && giveUp)) {
    log("expo_receipts", { app: job.app, tickets: tickets.length, reason: answer.reason, attempts, unread: true }, "error");
    return { kind: "done" };
  }
  if (answer.kind === "retry") {
    return { kind: "retry", delaySeconds: retryDelaySeconds(attempts, answer.retryAfter, deps.random) };
  }
  const now = deps.provider.now();
  if (answer.kind === "misconfigured") {
    const alarm: MisconfiguredAnswers = { provider: "expo", app: job.app, reason: answer.reason, answers: tickets.length, lastEventId: tickets.at(-1)!.eventId };
    logSignals({ misconfigured: [alarm] }, await recordReceipts(env.DB, [], { tokenAnswers: [], deadTokens: [], misconfigured: [alarm], accepted: [] }, now));
    return { kind: "retry", delaySeconds: retryDelaySeconds(attempts, undefined, deps.random) };
  }
  const sorted = sortReceipts(job, tickets, answer.receipts, now);
  const signals = signalsOf(job.app, sorted);
  logSignals(signals, await recordReceipts(env.DB, sorted.errors, signals, now));
  for (const error of sorted.errors) {
    log("delivery", { event_id: error.eventId, index: error.index, provider: "expo", device: shortToken(error.token), status: error.status, error: error.error }, "warn");
  }
  await followUp(job, sorted, { env, deps, now });
  return { kind: "done" };
}

/** What one job's receipts say, ticket by ticket. */
interface SortedReceipts {
  errors: ReceiptError[];
  dead: DeadToken[];
  misconfigured: Map<string, MisconfiguredAnswers>;
  /** Tickets Expo has no receipt for yet. */
  pending: Ticket[];
  /** Tickets whose receipt says Expo was throttled: sent again. */
  throttled: Ticket[];
  delivered: number;
}

function sortReceipts(job: ReceiptJob, tickets: readonly Ticket[], receipts: Record<string, unknown>, now: number): SortedReceipts {
  const sorted: SortedReceipts = { errors: [], dead: [], misconfigured: new Map(), pending: [], throttled: [], delivered: 0 };
  for (const ticket of tickets) {
    const receipt = receipts[ticket.id];
    if (receipt === undefined) {
      sorted.pending.push(ticket);
      continue;
    }
    const verdict = classifyReceipt(receipt);
    if (verdict.kind === "delivered") {
      sorted.delivered++;
      continue;
    }
    const key = { eventId: ticket.eventId, bucket: ticket.bucket, index: ticket.index, token: ticket.token, ticket: ticket.id, error: `receipt:${verdict.reason}` };
    if (verdict.kind === "dead") {
      sorted.errors.push({ ...key, status: "invalid_token" });
      // Jobs queued before they carried sent_at prune as they did: by the receipt alone.
      sorted.dead.push({ token: ticket.token, provider: "expo", app: job.app, reason: verdict.reason, sentAt: job.sent_at ?? now });
      continue;
    }
    sorted.errors.push({ ...key, status: "failed" });
    if (verdict.kind === "retry") sorted.throttled.push(ticket);
    if (verdict.kind === "misconfigured") {
      const alarm = sorted.misconfigured.get(verdict.reason) ?? { provider: "expo", app: job.app, reason: verdict.reason, answers: 0, lastEventId: "" };
      sorted.misconfigured.set(verdict.reason, alarm);
      alarm.answers++;
      alarm.lastEventId = ticket.eventId;
    }
  }
  return sorted;
}

/** What the receipts say about tokens and settings, for the pruning brake and the alerts. */
function signalsOf(app: string, sorted: SortedReceipts) {
  const answered = sorted.delivered + sorted.dead.length;
  return {
    tokenAnswers: answered > 0 ? [{ provider: "expo", app, answered, dead: sorted.dead.length }] : [],
    deadTokens: sorted.dead,
    misconfigured: [...sorted.misconfigured.values()],
    accepted: sorted.delivered > 0 ? [{ provider: "expo", app, ios: false } satisfies AcceptedPushes] : [],
  };
}

/** Throttled tickets are sent again; receipts Expo does not have yet are asked for again (a few rounds); one log line. */
async function followUp(job: ReceiptJob, sorted: SortedReceipts, { env, deps, now }: { env: Env; deps: ReceiptsDeps; now: number }): Promise<void> {
  const { pending, throttled } = sorted;
  if (throttled.length > 0) await resendThrottled(env, throttled, retryDelaySeconds(job.round, undefined, deps.random), now);
  let requeued = 0;
  if (pending.length > 0 && job.round < RECEIPT_ROUNDS) {
    requeued = await queueReceiptReads(env.PUSH_QUEUE, packTickets({ app: job.app, round: job.round + 1, sentAt: job.sent_at }, pending));
  }
  const missing = pending.length > 0 && requeued === 0 ? pending.length : 0;
  const counts = { delivered: sorted.delivered, dead: sorted.dead.length, failed: sorted.errors.length - sorted.dead.length, pending: pending.length, missing };
  log("expo_receipts", { app: job.app, round: job.round, tickets: ticketsOf(job).length, ...counts }, missing > 0 ? "warn" : "info");
}
