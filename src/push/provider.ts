/**
 * The one interface every push provider implements, and the small result
 * union the consumer acts on. Classifying a provider's answer into this
 * union is a pure function per provider (each folder's classify.ts).
 */
import type { ApnsEnvironment } from "../vocabulary";

/** What the consumer hands a provider: one notification for one device. */
export interface PushMessage {
  token: string;
  /** The device's app: whose credentials and topic the push goes out with. */
  app: string;
  environment: ApnsEnvironment;
  title: string;
  body: string;
  path: string;
  /** The tap link https://m.learn.ink/{orgId}{path}?webview=true (never a sign-in token). */
  url: string;
  event_id: string;
  /** Index of the notification in the event; with event_id it keys collapse ids. */
  index: number;
}

/**
 * Every result but `sent` may carry `detail`: the provider's own error text
 * (trimmed, never a token; see detail.ts), kept with the failure so an
 * operator reads what the provider said, not only our reason code.
 */
export type PushResult =
  /**
   * Accepted by the provider; `id` is FCM's message name or APNs' apns-id.
   * `environment` is set when APNs accepted the token only in the other
   * environment than the device's: the consumer then corrects the device.
   */
  | { kind: "sent"; id: string; environment?: ApnsEnvironment }
  /** The provider says the token is dead: the device is removed (or quarantined by the pruning brake). */
  /** `since`: when the provider last knew the token dead (epoch ms), where it says (APNs 410 `timestamp`). */
  | { kind: "invalid_token"; reason: string; since?: number; detail?: string }
  /**
   * One of our settings is wrong (what every token would be told, see
   * misconfiguration.ts): nothing is deleted, the delivery waits for a fix
   * and an alert is raised. `reason` is the provider's answer, or the name of
   * a setting that is set but unreadable.
   */
  | { kind: "misconfigured"; reason: string; detail?: string }
  /** Try again after `retryAfter` seconds (from Retry-After, or the consumer's backoff when undefined). */
  | { kind: "retry"; reason: string; retryAfter?: number; detail?: string }
  /**
   * The provider has no way to reach this user (OneSignal: no push
   * subscription, `invalid_aliases`): recorded `no_device`, not retried.
   */
  | { kind: "no_device"; reason: string; detail?: string }
  /** Final failure with the provider's reason (or ours, e.g. provider_not_configured). */
  | { kind: "failed"; reason: string; detail?: string };

/** What providers are built with: injected so tests can control time and the network. */
export interface ProviderDeps {
  fetch: typeof fetch;
  /** Epoch milliseconds. */
  now: () => number;
  /** Per-request timeout; the timer is cleared as soon as the answer arrives. */
  timeoutMs: number;
}

export interface PushProvider {
  /** The provider's name, as its descriptor gives it. */
  readonly name: string;
  send(message: PushMessage): Promise<PushResult>;
  /**
   * For providers whose API takes many messages per request (Expo: 100):
   * sends them in as few requests as it may, one result per message, in
   * order. The consumer hands over at most `maxBatch` messages of one app.
   * Providers without it (FCM, APNs: one device per request) get `send`.
   */
  sendBatch?(messages: readonly PushMessage[]): Promise<PushResult[]>;
  readonly maxBatch?: number;
  /**
   * Lists are made of one queue message's rows only, so that a retry of the
   * message forms exactly the same lists (OneSignal: the idempotency key is
   * derived from what a request carries).
   */
  readonly sameMessageOnly?: boolean;
  /**
   * The settings self-check for `app` (check.ts): asks the provider whether
   * our settings are accepted without notifying anyone, through the same
   * credential cache as the sends. Null when the provider is not
   * configured for that app (nothing to check).
   */
  check?(app: string): Promise<SettingsCheck | null>;
}

/** One provider's verdict on one app's settings (the self-check, check.ts). */
export interface SettingsCheck {
  ok: boolean;
  /** What the provider accepted, or what to fix, in words an operator can act on. */
  detail: string;
}
