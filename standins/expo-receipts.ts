/**
 * The push receipts the Expo stand-in holds: one per ticket it issued, `ok`
 * or the error a script put there, readable through `push/getReceipts`
 * for 24 hours, as Expo keeps them.
 */

/** Expo clears push receipts after 24 hours. */
export const RECEIPT_LIFETIME_MS = 24 * 60 * 60_000;
/** Past this many, expired receipts are swept (a benchmark issues many). */
const SWEEP_AT = 200_000;

export type ExpoReceipt = { status: "ok" } | { status: "error"; message: string; details: { error: string } };

interface Held {
  receipt: ExpoReceipt;
  at: number;
}

export class ExpoReceipts {
  #held = new Map<string, Held>();

  add(id: string, receipt: ExpoReceipt, nowMs: number): void {
    if (this.#held.size >= SWEEP_AT) this.#sweep(nowMs);
    this.#held.set(id, { receipt, at: nowMs });
  }

  /** The receipts of `ids` Expo still has; ids without one are left out, as Expo does. */
  read(ids: readonly string[], nowMs: number): Record<string, ExpoReceipt> {
    const found: Record<string, ExpoReceipt> = {};
    for (const id of ids) {
      const held = this.#held.get(id);
      if (held && nowMs - held.at <= RECEIPT_LIFETIME_MS) found[id] = held.receipt;
    }
    return found;
  }

  #sweep(nowMs: number): void {
    for (const [id, held] of this.#held) if (nowMs - held.at > RECEIPT_LIFETIME_MS) this.#held.delete(id);
    // Still full (all fresh): forget the oldest half rather than grow without end.
    if (this.#held.size >= SWEEP_AT) {
      let drop = this.#held.size / 2;
      for (const id of this.#held.keys()) {
        if (drop-- <= 0) break;
        this.#held.delete(id);
      }
    }
  }
}
