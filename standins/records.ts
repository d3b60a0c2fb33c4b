/**
 * What the stand-ins saw: accepted pushes, every request to a push route
 * with its answer, and counters for the credential-caching and batching
 * tests. Bounded, so a long dev run or a benchmark cannot grow it without end.
 */
import { BoundedLog } from "./bounded-log.ts";
import type { Credentials } from "./credentials.ts";
import type { PushFilter, PushProviderName, RecordedPush, RecordedRequest, StandinStats, StatsFilter } from "./types.ts";

/** The most pushes (and, separately, requests) kept. */
export const RECORD_CAPACITY = 50_000;

/** Counts by account (a client_email, an APNs key id, an Expo access token, a OneSignal app id), and in total. */
class Counter {
  #by = new Map<string, number>();
  #total = 0;

  add(account: string): void {
    this.#by.set(account, (this.#by.get(account) ?? 0) + 1);
    this.#total++;
  }

  /** The count for `account`, or the total when it is undefined. */
  get(account: string | undefined): number {
    return account === undefined ? this.#total : (this.#by.get(account) ?? 0);
  }
}

/** Requests counted per provider account, beyond accepted pushes. */
export type RequestCounter = "token" | "expo_send" | "expo_receipts" | "onesignal_notifications" | "hms_token" | "hms_send";

const newPushCounters = (): Record<PushProviderName, Counter> => ({
  fcm: new Counter(),
  apns: new Counter(),
  expo: new Counter(),
  onesignal: new Counter(),
  hms: new Counter(),
});
const newRequestCounters = (): Record<RequestCounter, Counter> => ({
  token: new Counter(),
  expo_send: new Counter(),
  expo_receipts: new Counter(),
  onesignal_notifications: new Counter(),
  hms_token: new Counter(),
  hms_send: new Counter(),
});

export class Records {
  #pushes = new BoundedLog<RecordedPush>(RECORD_CAPACITY);
  #requests = new BoundedLog<RecordedRequest>(RECORD_CAPACITY);
  /** Accepted pushes by provider and account. */
  #pushCounts = newPushCounters();
  #requestCounts = newRequestCounters();

  countTokenRequest(clientEmail: string): void {
    this.#requestCounts.token.add(clientEmail);
  }

  /** Counts a successful request of this kind made with `account`. */
  count(kind: RequestCounter, account: string): void {
    this.#requestCounts[kind].add(account);
  }

  /** Records an accepted push; `account` is the credential behind it (client_email, key id, access token, app id). */
  addPush(push: RecordedPush, account: string): void {
    this.#pushes.push(push);
    this.#pushCounts[push.provider].add(account);
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

  /** Requests for `token` (any when undefined), of the event `eventId` (any when undefined). */
  requests(token: string | undefined, eventId?: string): RecordedRequest[] {
    const found: RecordedRequest[] = [];
    for (const request of this.#requests) {
      if ((token === undefined || request.token === token) && (eventId === undefined || request.event_id === eventId)) found.push(request);
    }
    return found;
  }

  stats(credentials: Credentials, filter: StatsFilter = {}): StandinStats {
    const keys = filter.key_id === undefined ? [...credentials.apnsKeys.values()] : [credentials.apnsKeys.get(filter.key_id)];
    return {
      token_requests: this.#requestCounts.token.get(filter.client_email),
      apns_jwts: keys.reduce((total, key) => total + (key?.jwtsSeen.size ?? 0), 0),
      fcm_pushes: this.#pushCounts.fcm.get(filter.client_email),
      apns_pushes: this.#pushCounts.apns.get(filter.key_id),
      expo_pushes: this.#pushCounts.expo.get(filter.access_token),
      expo_requests: this.#requestCounts.expo_send.get(filter.access_token),
      expo_receipt_requests: this.#requestCounts.expo_receipts.get(filter.access_token),
      onesignal_pushes: this.#pushCounts.onesignal.get(filter.app_id),
      onesignal_notifications: this.#requestCounts.onesignal_notifications.get(filter.app_id),
      hms_pushes: this.#pushCounts.hms.get(filter.app_id),
      hms_token_requests: this.#requestCounts.hms_token.get(filter.app_id),
      hms_requests: this.#requestCounts.hms_send.get(filter.app_id),
    };
  }

  clear(): void {
    this.#pushes.clear();
    this.#requests.clear();
    this.#pushCounts = newPushCounters();
    this.#requestCounts = newRequestCounters();
  }
}
