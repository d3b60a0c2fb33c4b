/**
 * Did every accepted notification reach its device exactly once? Checked
 * per event and device token against the stand-ins' records when the run
 * fits in what they keep (RECORD_CAPACITY pushes); beyond that, by the
 * stand-ins' push counters (a duplicate shows as a surplus) together with
 * each event's ledger summary from `GET /v1/events/:id` (a loss shows as a
 * delivery that is not `sent`).
 */
import { runPool } from "../src/pool.ts";
import { RECORD_CAPACITY } from "../standins/records.ts";
import type { StandinClient } from "../standins/client.ts";

export interface DeliveryCheck {
  method: string;
  /** Pushes expected for the webhooks answered 2xx. */
  expected: number;
  received: number;
  missing: number;
  duplicates: number;
  /** Pushes for an event to a device the event was not for. */
  unexpected: number;
  /** Webhooks the relay never accepted: none of them may be pushed. */
  unanswered: { events: number; pushes: number };
  /** A few examples of what went wrong. */
  problems: string[];
}

const key = (event: string, token: string) => `${event}\u0000${token}`;

/** Per (event, token), from the stand-ins' records. */
async function checkRecords(
  standins: StandinClient,
  sent: ReadonlyMap<string, string[]>,
  accepted: ReadonlySet<string>,
): Promise<DeliveryCheck> {
  const counts = new Map<string, number>();
  for (const provider of ["fcm", "apns"] as const) {
    for (const push of await standins.pushes({ provider })) {
      if (push.event_id === null || !sent.has(push.event_id)) continue;
      const k = key(push.event_id, push.token);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  const check: DeliveryCheck = {
    method: "stand-in records, per event and device",
    expected: 0,
    received: 0,
    missing: 0,
    duplicates: 0,
    unexpected: 0,
    unanswered: { events: 0, pushes: 0 },
    problems: [],
  };
  const note = (problem: string) => check.problems.length < 10 && check.problems.push(problem);
  const expectedKeys = new Set<string>();
  for (const [event, tokens] of sent) {
    const answered = accepted.has(event);
    if (!answered) check.unanswered.events++;
    for (const token of tokens) {
      const k = key(event, token);
      expectedKeys.add(k);
      const n = counts.get(k) ?? 0;
      if (answered) {
        check.expected++;
        check.received += n;
        if (n === 0) {
          check.missing++;
          note(`missing: event ${event} to …${token.slice(-6)}`);
        }
      } else if (n > 0) {
        check.unanswered.pushes += n;
        note(`push for an event never accepted: ${event} to …${token.slice(-6)}`);
      }
      if (answered && n > 1) {
        check.duplicates += n - 1;
        note(`${n} pushes: event ${event} to …${token.slice(-6)}`);
      }
    }
  }
  for (const [k, n] of counts) {
    if (expectedKeys.has(k)) continue;
    check.unexpected += n;
    note(`unexpected push: ${k.replace("\u0000", " to ")}`);
  }
  return check;
}

/** By totals and ledger summaries, when the run is larger than the stand-ins keep. */
async function checkTotals(
  pushesDuringRun: number,
  sent: ReadonlyMap<string, string[]>,
  accepted: ReadonlySet<string>,
  relay: { url: string; apiKey: string },
): Promise<DeliveryCheck> {
  let expected = 0;
  for (const [event, tokens] of sent) if (accepted.has(event)) expected += tokens.length;
  const check: DeliveryCheck = {
    method: "stand-in push counters, and GET /v1/events/:id for every accepted event",
    expected,
    received: pushesDuringRun,
    missing: 0,
    duplicates: 0,
    unexpected: 0,
    unanswered: { events: sent.size - accepted.size, pushes: 0 },
    problems: [],
  };
  await runPool([...accepted], 16, async (event) => {
    const response = await fetch(`${relay.url}/v1/events/${encodeURIComponent(event)}?limit=1`, {
      headers: { authorization: `Bearer ${relay.apiKey}` },
    });
    const body = response.ok ? ((await response.json()) as { summary: Record<string, number> }) : null;
    const want = sent.get(event)!.length;
    const got = body?.summary.sent ?? 0;
    if (got < want) {
      check.missing += want - got;
      if (check.problems.length < 10) check.problems.push(`event ${event}: ${JSON.stringify(body?.summary ?? response.status)}, ${want} expected`);
    }
  });
  // Every push beyond the deliveries the ledger shows as sent is a duplicate (or a push for an event never accepted).
  check.duplicates = Math.max(0, pushesDuringRun - (expected - check.missing));
  if (check.duplicates > 0) check.problems.push(`${check.duplicates} more pushes than sent deliveries`);
  return check;
}

/**
 * `pushes` are the stand-ins' accepted-push counters before and after the
 * run; their records hold the most recent RECORD_CAPACITY pushes since
 * their last reset, so the run's are all there while `after` fits.
 */
export async function checkDeliveries(
  standins: StandinClient,
  pushes: { before: number; after: number },
  sent: ReadonlyMap<string, string[]>,
  accepted: ReadonlySet<string>,
  relay: { url: string; apiKey: string },
): Promise<DeliveryCheck> {
  return pushes.after <= RECORD_CAPACITY
    ? checkRecords(standins, sent, accepted)
    : checkTotals(pushes.after - pushes.before, sent, accepted, relay);
}
