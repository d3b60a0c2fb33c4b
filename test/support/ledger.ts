/**
 * The ledger as its documents hold it (src/db/doc-store.ts), for tests of
 * what the write path and the sweeps leave behind: an event's deliveries,
 * each with its notification's index, and counts by status as the API
 * shows them (`held` for the quiet hours).
 */
import { env } from "cloudflare:workers";
import { ksuidSeconds, shown, type StoredDoc } from "../../src/db/doc";
import { eventDocs } from "../../src/db/doc-store";

export interface LedgerDelivery {
  index: number;
  token: string;
  provider: string | null;
  status: string;
  attempts: number;
  providerId: string | null;
  error: string | null;
  nextAttemptAt: number | null;
  claimedBy: string | null;
  claimedUntil: number | null;
  openedAt: number | null;
  updatedAt: number;
}

export interface EventLedger {
  summary: Record<string, number>;
  /** In (index, token) order. */
  deliveries: LedgerDelivery[];
  documents: StoredDoc[];
}

/**
 * The event's deliveries as its documents hold them, or null when no
 * document holds the event. `bucket` is needed only for an event whose id
 * does not say it and that is older than eventDocs looks back (31 days).
 */
export async function ledgerOf(eventId: string, bucket: number | null = null): Promise<EventLedger | null> {
  const documents = await eventDocs(env.DB, eventId, bucket ?? ksuidSeconds(eventId, Date.now()), Date.now());
  if (documents.length === 0) return null;
  const deliveries = documents.flatMap(({ doc }) =>
    doc.d.flatMap((d) => {
      const n = doc.n[d.n]!;
      if (doc.ev[n.e] !== eventId) return [];
      return [
        {
          index: n.i,
          token: d.t,
          provider: d.p,
          status: shown(d),
          attempts: d.k,
          providerId: d.id ?? null,
          error: d.er ?? null,
          nextAttemptAt: d.na ?? null,
          claimedBy: d.cb ?? null,
          claimedUntil: d.cu ?? null,
          openedAt: n.o ?? null,
          updatedAt: d.u,
        },
      ];
    }),
  );
  deliveries.sort((a, b) => a.index - b.index || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
  const summary: Record<string, number> = {};
  for (const d of deliveries) summary[d.status] = (summary[d.status] ?? 0) + 1;
  return { summary, deliveries, documents };
}

