/**
 * The one client of the stand-ins' control API (control.ts): what was
 * pushed, scripted answers and faults, registered credentials, counters.
 * It needs only `fetch`, so the tests (inside workerd), the benchmark and
 * the scripts (in Node) all use it.
 */
import type {
  AccessKeyRegistration,
  ApnsKeyRegistration,
  ExpoSecurity,
  FailRateConfig,
  HmsAppRegistration,
  OneSignalAppRegistration,
  OneSignalUsers,
  PushFilter,
  RecordedPush,
  RecordedRequest,
  ScriptedResponse,
  ServiceAccountRegistration,
  StandinStats,
  StatsFilter,
} from "./types.ts";

function query(params: Record<string, string | undefined>): string {
  const defined = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return defined.length === 0 ? "" : `?${new URLSearchParams(defined)}`;
}

export class StandinClient {
  /** `http://127.0.0.1:PORT` of the stand-ins. */
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  private async control<T>(method: "GET" | "POST", action: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/__standin/${action}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`stand-in ${method} /__standin/${action} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  /** Accepted pushes, oldest first. */
  async pushes(filter: PushFilter = {}): Promise<RecordedPush[]> {
    return (await this.control<{ pushes: RecordedPush[] }>("GET", `pushes${query({ ...filter })}`)).pushes;
  }

  /** Every request that reached a push route for `token`, with the status it got (retries included). */
  async requests(token: string): Promise<RecordedRequest[]> {
    return (await this.control<{ requests: RecordedRequest[] }>("GET", `requests${query({ token })}`)).requests;
  }

  /** Every request that reached a push route for the event `eventId` (its `event_id`), whatever the token. */
  async requestsOfEvent(eventId: string): Promise<RecordedRequest[]> {
    return (await this.control<{ requests: RecordedRequest[] }>("GET", `requests${query({ event_id: eventId })}`)).requests;
  }

  /** The next pushes to `token` get these answers, in order (replaces an earlier script for it); then back to normal. */
  async script(token: string, responses: ScriptedResponse[]): Promise<void> {
    await this.control("POST", "script", { token, responses });
  }

  /** Random faults; scope them with `token_prefix` so other users of the stand-ins are not disturbed. */
  async failRate(config: FailRateConfig): Promise<void> {
    await this.control("POST", "fail-rate", config);
  }

  /** Forgets recorded pushes, scripts and faults (credentials stay valid). */
  async reset(): Promise<void> {
    await this.control("POST", "reset");
  }

  async registerServiceAccount(registration: ServiceAccountRegistration): Promise<void> {
    await this.control("POST", "service-accounts", registration);
  }

  async registerApnsKey(registration: ApnsKeyRegistration): Promise<void> {
    await this.control("POST", "apns-keys", registration);
  }

  /** Trusts this key as one of the stand-in Cloudflare Access team's signing keys. */
  async registerAccessKey(registration: AccessKeyRegistration): Promise<void> {
    await this.control("POST", "access-keys", registration);
  }

  /** Trusts an Expo access token (sent as `Authorization: Bearer`). */
  async registerExpoAccessToken(accessToken: string): Promise<void> {
    await this.control("POST", "expo-access-tokens", { access_token: accessToken });
  }

  /** Turns Expo's push security on or off for the device tokens starting with `token_prefix`. */
  async expoSecurity(security: ExpoSecurity): Promise<void> {
    await this.control("POST", "expo-security", security);
  }

  /** Registers a OneSignal app and its App API key. */
  async registerOneSignalApp(registration: OneSignalAppRegistration): Promise<void> {
    await this.control("POST", "onesignal-apps", registration);
  }

  /** Registers a Huawei app (App ID and App Secret) with Push Kit's token endpoint. */
  async registerHmsApp(registration: HmsAppRegistration): Promise<void> {
    await this.control("POST", "hms-apps", registration);
  }

  /** Says what the OneSignal app knows of these external ids (subscribed, unsubscribed, unknown). */
  async oneSignalUsers(users: OneSignalUsers): Promise<void> {
    await this.control("POST", "onesignal-users", users);
  }

  /**
   * Counters, overall or for one account per provider: a service account
   * (`client_email`), an APNs key (`key_id`), an Expo access token
   * (`access_token`, "" for requests without one), a OneSignal or Huawei app (`app_id`).
   */
  stats(filter: StatsFilter = {}): Promise<StandinStats> {
    return this.control<StandinStats>("GET", `stats${query({ ...filter })}`);
  }

  /** Accepted pushes of every provider together (a OneSignal push is one user reached). */
  async pushCount(): Promise<number> {
    const stats = await this.stats();
    return stats.fcm_pushes + stats.apns_pushes + stats.expo_pushes + stats.onesignal_pushes + stats.hms_pushes;
  }

  /** Polls until at least `count` pushes match `filter`; throws with what arrived on timeout. */
  async waitForMatching(filter: PushFilter, count: number, timeoutMs = 5000): Promise<RecordedPush[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await this.pushes(filter);
      if (found.length >= count) return found;
      if (Date.now() >= deadline) {
        throw new Error(`waited ${timeoutMs} ms for ${count} pushes matching ${JSON.stringify(filter)}, got ${found.length}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Polls until `target` pushes were accepted in total, or nothing new came
   * for `idleMs` (then returns what it has, so a loss shows as a shortfall).
   */
  async waitForPushes(target: number, options: { idleMs: number; intervalMs?: number }): Promise<number> {
    let count = await this.pushCount();
    let lastChange = Date.now();
    while (count < target && Date.now() - lastChange < options.idleMs) {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
      const now = await this.pushCount();
      if (now !== count) lastChange = Date.now();
      count = now;
    }
    return count;
  }
}
