/**
 * The shapes the stand-ins share with their users: the keys they trust, the
 * control API's requests and answers, and what a recorded push looks like.
 * Types only, so tests running inside workerd can import them too.
 */
import type { JWK } from "jose";

/** A Google service account as its JSON key file describes it (the fields the relay reads). */
export interface StandinServiceAccount {
  project_id: string;
  client_email: string;
  /** PKCS8 PEM, RS256. */
  private_key: string;
  private_key_id: string;
  token_uri?: string;
}

/** The credentials the stand-ins trust from the start; tests may register more. */
export interface StandinKeys {
  serviceAccount: StandinServiceAccount;
  /** The public half of `serviceAccount.private_key`. */
  fcmPublicJwk: JWK;
  apns: {
    keyId: string;
    teamId: string;
    /** The app's bundle id: the only `apns-topic` this key may push to. */
    topic: string;
    /** PKCS8 PEM, ES256 (P-256): the content of a `.p8` file. */
    privateKeyPem: string;
    publicJwk: JWK;
  };
  /** Expo: an access token the stand-in trusts (sent only when the relay has EXPO_ACCESS_TOKEN). */
  expo: { accessToken: string };
  /** OneSignal: an app and its App API key. */
  onesignal: { appId: string; apiKey: string };
  /** Huawei Push Kit: an app's App ID and App Secret (the OAuth client). */
  hms: { appId: string; appSecret: string };
}

/** Options of `startStandins`. */
export interface StandinOptions {
  /** 0 or unset: any free port. */
  port?: number;
  /** Unset: fresh keys are generated. */
  keys?: StandinKeys;
  /** Given (the dev run): one readable line per accepted push; unset or false: silent. */
  print?: ((line: string) => void) | false;
}

/** A running set of stand-ins. */
export interface Standins {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  keys: StandinKeys;
  close(): Promise<void>;
}

/** The Worker configuration that points the relay at the stand-ins. */
export interface StandinWorkerConfig {
  FCM_SERVICE_ACCOUNT: string;
  FCM_API_BASE: string;
  APNS_API_BASE: string;
  APNS_KEY: string;
  APNS_KEY_ID: string;
  APNS_TEAM_ID: string;
  APNS_TOPIC: string;
  EXPO_API_BASE: string;
  EXPO_ACCESS_TOKEN: string;
  ONESIGNAL_API_BASE: string;
  ONESIGNAL_APP_ID: string;
  ONESIGNAL_API_KEY: string;
  HMS_APP_ID: string;
  HMS_APP_SECRET: string;
  HMS_API_BASE: string;
  HMS_OAUTH_URL: string;
}

export type PushProviderName = "fcm" | "apns" | "expo" | "onesignal" | "hms";

/**
 * A push the stand-in accepted (answered 200). For Expo, one per message of
 * a request; for OneSignal, one per external id the notification reached
 * (`token` is the external id).
 */
export interface RecordedPush {
  provider: PushProviderName;
  token: string;
  title: string | null;
  body: string | null;
  path: string | null;
  url: string | null;
  event_id: string | null;
  /** Request headers, lower-case, without `authorization`. */
  headers: Record<string, string>;
  /** The full JSON body received. */
  payload: unknown;
  /** Epoch milliseconds. */
  received_at: number;
  /**
   * Expo and OneSignal: an id of the HTTP request that carried the push
   * (pushes of one request share it); the Expo ticket id, or the OneSignal
   * notification id, is `provider_id`.
   */
  request_id?: string;
  provider_id?: string;
}

/** Every request that reached a push route, and what it was answered. */
export interface RecordedRequest {
  provider: PushProviderName;
  /** The device token ("" when the FCM body could not be read). */
  token: string;
  /** The HTTP status answered; 0 when the connection was reset or left hanging (or the answer dropped). */
  status: number;
  /**
   * FCM's errorCode (or status), APNs' reason, Expo's ticket or request
   * error code, OneSignal's first error, "reset", "hang" or "answer_dropped"
   * (accepted, then the connection dropped); null on success.
   */
  reason: string | null;
  /** Who decided the answer: the stand-in's own checks, a script, or the fail rate. */
  answered_by: "checks" | "script" | "fault";
  event_id: string | null;
  received_at: number;
}

export type FcmPreset =
  | "unregistered"
  | "sender_id_mismatch"
  | "invalid_token_argument"
  | "invalid_argument"
  | "quota_exceeded"
  | "unavailable"
  | "internal"
  | "unauthenticated"
  | "third_party_auth_error";

export type ApnsPreset =
  | "apns_unregistered"
  | "apns_bad_device_token"
  | "apns_device_token_not_for_topic"
  | "apns_expired_provider_token"
  | "apns_invalid_provider_token"
  | "apns_too_many_requests"
  | "apns_service_unavailable"
  | "apns_internal_server_error"
  | "apns_payload_too_large";

/**
 * Expo: `expo_*` ticket errors answer that message's ticket with the error;
 * `expo_receipt_*` accept the message and put the error in its receipt;
 * the others answer the whole request.
 */
export type ExpoPreset =
  | "expo_device_not_registered"
  | "expo_message_rate_exceeded"
  | "expo_invalid_credentials"
  | "expo_message_too_big"
  | "expo_receipt_device_not_registered"
  | "expo_receipt_message_rate_exceeded"
  | "expo_receipt_invalid_credentials"
  | "expo_receipt_mismatch_sender_id"
  | "expo_receipt_message_too_big"
  | "expo_too_many_requests"
  | "expo_internal_server_error"
  | "expo_service_unavailable";

/** OneSignal: answers for the whole request (scripted on any external id it carries). */
export type OneSignalPreset = "onesignal_rate_limited" | "onesignal_internal_server_error" | "onesignal_service_unavailable";

/**
 * Huawei Push Kit: `hms_illegal_token` refuses that token only (the others
 * of its request are sent: 80100000, or 80300007 when none is); the others
 * answer the whole request (scripted on any token it carries).
 */
export type HmsPreset = "hms_illegal_token" | "hms_flow_control" | "hms_internal_error" | "hms_oauth_error" | "hms_no_permission";

export type Preset = FcmPreset | ApnsPreset | ExpoPreset | OneSignalPreset | HmsPreset;

/**
 * One scripted answer for a device token. A raw `{ status: 200 }` without a
 * body is the stand-in's normal success (recorded as a push), after `delayMs`.
 */
export type ScriptedResponse =
  | {
      status: number;
      /** A string is sent as is, anything else as JSON. */
      body?: unknown;
      headers?: Record<string, string>;
      delayMs?: number;
      /** Destroy the socket without answering. */
      reset?: true;
    }
  | {
      preset: Preset;
      /** Seconds, sent as `Retry-After`. */
      retryAfter?: number;
      delayMs?: number;
    };

/**
 * `hang`: hold the request, then drop the connection; `reset`: drop it at
 * once; `drop_answer`: accept the push (it is recorded, as if the phone got
 * it), then drop the connection before the answer, the case a sender can
 * only resend (FCM and APNs; Expo and OneSignal take it as `reset`).
 */
export type FaultMode = "429" | "500" | "503" | "hang" | "reset" | "drop_answer";

/**
 * Random faults for a share of push requests; `{ rate: 0 }` turns them off.
 * With `token_prefix`, only device tokens starting with it are affected
 * (each prefix has its own setting, so test files running in parallel do
 * not disturb each other); without, every push.
 */
export interface FailRateConfig {
  /** 0..1 */
  rate: number;
  /** Default `["503"]`. */
  modes?: FaultMode[];
  /**
   * Instead of `modes`: answer with this preset, e.g. `unregistered` for a
   * burst of dead tokens, or `sender_id_mismatch` for what a wrong service
   * account gets for every token.
   */
  preset?: Preset;
  token_prefix?: string;
  /** Same seed, same sequence of faults. */
  seed?: number;
  /** How long a "hang" holds the request before dropping it (default 30 s). */
  hangMs?: number;
}

/** Registers an extra service account (`POST /__standin/service-accounts`). */
export interface ServiceAccountRegistration {
  client_email: string;
  project_id: string;
  public_jwk: JWK;
  private_key_id?: string;
  /** Lifetime of the access tokens issued to it (default 3599, as Google). For expiry tests. */
  token_ttl_seconds?: number;
}

/** Registers an extra APNs key (`POST /__standin/apns-keys`). */
export interface ApnsKeyRegistration {
  key_id: string;
  team_id: string;
  topic: string;
  public_jwk: JWK;
}

/** Registers a Cloudflare Access signing key (`POST /__standin/access-keys`), served at `/cdn-cgi/access/certs`. */
export interface AccessKeyRegistration {
  /** The RS256 public key, with its `kid`. */
  public_jwk: JWK;
}

/** Trusts an Expo access token (`POST /__standin/expo-access-tokens`). */
export interface ExpoAccessTokenRegistration {
  access_token: string;
}

/**
 * Expo's "enhanced push security" for the device tokens starting with
 * `token_prefix` (`POST /__standin/expo-security`): with `required`, a
 * request carrying any such token without a valid access token is refused.
 */
export interface ExpoSecurity {
  token_prefix: string;
  required: boolean;
}

/** Registers a OneSignal app and its App API key (`POST /__standin/onesignal-apps`). */
export interface OneSignalAppRegistration {
  app_id: string;
  api_key: string;
}

/** Registers a Huawei app (`POST /__standin/hms-apps`). */
export interface HmsAppRegistration {
  app_id: string;
  app_secret: string;
  /** Lifetime of the access tokens minted for it (default 3600, as Huawei). For expiry tests. */
  token_ttl_seconds?: number;
}

/**
 * What OneSignal knows of these external ids in an app
 * (`POST /__standin/onesignal-users`): a user with a push subscription, a
 * user without one (answered in `errors.invalid_aliases`), or no user at all
 * (ids OneSignal does not know are ignored). Ids never registered are unknown.
 */
export interface OneSignalUsers {
  app_id: string;
  external_ids: string[];
  state: "subscribed" | "unsubscribed" | "unknown";
}

/** `GET /__standin/stats`: counters, narrowed by `client_email` / `key_id` when given. */
export interface StandinStats {
  /** Successful /token exchanges (for that client_email). */
  token_requests: number;
  /** Distinct valid APNs provider JWTs seen (for that key_id). */
  apns_jwts: number;
  /** Accepted FCM pushes (sent with that client_email's tokens). */
  fcm_pushes: number;
  /** Accepted APNs pushes (signed with that key_id). */
  apns_pushes: number;
  /** Accepted Expo messages (sent with that access_token; "" for none). */
  expo_pushes: number;
  /** Expo `push/send` requests answered 200 (with that access_token). */
  expo_requests: number;
  /** Expo `push/getReceipts` requests answered 200 (with that access_token). */
  expo_receipt_requests: number;
  /** OneSignal users reached (in that app_id). */
  onesignal_pushes: number;
  /** OneSignal notifications created (in that app_id): a repeated idempotency key creates none. */
  onesignal_notifications: number;
  /** Accepted Push Kit pushes, one per token reached (for that app_id). */
  hms_pushes: number;
  /** Push Kit `messages:send` requests that reached at least one token (for that app_id). */
  hms_requests: number;
  /** Access tokens minted by the Push Kit token endpoint (for that app_id). */
  hms_token_requests: number;
}

/** Filter of `GET /__standin/stats`: one account per provider. */
export interface StatsFilter {
  client_email?: string;
  key_id?: string;
  access_token?: string;
  app_id?: string;
}

/** Filter of `GET /__standin/pushes`. */
export interface PushFilter {
  token?: string;
  event_id?: string;
  provider?: PushProviderName;
}
