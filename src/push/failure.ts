/**
 * Thrown by credential minting when a send cannot go on: it carries the
 * result the send returns, so a token endpoint that is down becomes a
 * retry, and a refused key a retry after a hold (`credentials_rejected`).
 */
import type { PushResult } from "./provider";

export class PushFailure extends Error {
  constructor(readonly result: Exclude<PushResult, { kind: "sent" }>) {
    super(`push not sent: ${result.kind} ${result.reason}`);
    this.name = "PushFailure";
  }
}
