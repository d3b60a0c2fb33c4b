/**
 * What the stand-ins saw: accepted pushes, every request to a push route
 * with its answer, and counters for the credential-caching tests. Bounded,
 * so a long dev run or a benchmark cannot grow it without end.
 */
import { BoundedLog } from "./bounded-log.ts";
import type { Credentials } from "./credentials.ts";
import type { PushFilter, PushProviderName, RecordedPush, RecordedRequest, StandinStats } from "./types.ts";

/** The most pushes (and, separately, requests) kept. */
export const RECORD_CAPACITY = 50_000;

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export class Records {
  #pushes = new BoundedLog<RecordedPush>(RECORD_CAPACITY);
  #requests = new BoundedLog<RecordedRequest>(RECORD_CAPACITY);
  #tokenRequests = new Map<string, number>();
  /** Accepted pushes by client_email (FCM) or key_id (APNs). */
  #pushesBy: Record<PushProviderName, Map<string, number>> = { fcm: new Map(), apns: new Map() };
  #pushTotals: Record<PushProviderName, number> = { fcm: 0, apns: 0 };

  countTokenRequest(clientEmail: string): void {
    bump(this.#tokenRequests, clientEmail);
  }

  /** Records an accepted push; `account` is the client_email or APNs key id behind it. */
  addPush(push: RecordedPush, account: string): void {
    this.#pushes.push(push);
    bump(this.#pushesBy[push.provider], account);
    this.#pushTotals[push.provider]++;
  }

  addRequest(request: RecordedRequest): void {
    this.#requests.push(request);
  }

  pushes(filter: PushFilter): RecordedPush[] {
    const found: RecordedPush[] = [];
    for (const push of this.#pushes) {
      if (filter.token !== undefined && push.token !== filter.token) continue;
      if (filter.event_id !== undefined && push.event_id !== filter.event_id) continue;
      if (filter.provider !== undefined && push.provider !== filter.provider) continue;
      found.push(push);
    }
    return found;
  }

  requests(token: string | undefined): RecordedRequest[] {
    const found: RecordedRequest[] = [];
    for (const request of this.#requests) if (token === undefined || request.token === token) found.push(request);
    return found;
  }

  stats(credentials: Credentials, clientEmail?: string, keyId?: string): StandinStats {
    const sum = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
    const keys = keyId === undefined ? [...credentials.apnsKeys.values()] : [credentials.apnsKeys.get(keyId)];
    return {
      token_requests: clientEmail === undefined ? sum(this.#tokenRequests) : (this.#tokenRequests.get(clientEmail) ?? 0),
      apns_jwts: keys.reduce((total, key) => total + (key?.jwtsSeen.size ?? 0), 0),
      fcm_pushes: clientEmail === undefined ? this.#pushTotals.fcm : (this.#pushesBy.fcm.get(clientEmail) ?? 0),
      apns_pushes: keyId === undefined ? this.#pushTotals.apns : (this.#pushesBy.apns.get(keyId) ?? 0),
    };
  }

  clear(): void {
    this.#pushes.clear();
    this.#requests.clear();
    this.#tokenRequests.clear();
    this.#pushesBy = { fcm: new Map(), apns: new Map() };
    this.#pushTotals = { fcm: 0, apns: 0 };
  }
}
