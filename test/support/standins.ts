/**
 * A typed client for the stand-ins' control API (standins/control.ts), for
 * tests running inside workerd: read what was pushed, script a device's next
 * answers, inject faults, read counters. Plus fresh credentials generated
 * here and registered with the stand-ins, so a test's token and JWT counters
 * are its own even while other test files push in parallel.
 */
import { env } from "cloudflare:workers";
import { exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { StandinClient } from "../../standins/client.ts";
import type { AccessKeyRegistration, FailRateConfig, OneSignalUsers, PushFilter, ScriptedResponse, StatsFilter } from "../../standins/types.ts";

export type {
  FailRateConfig,
  PushFilter,
  RecordedPush,
  RecordedRequest,
  ScriptedResponse,
  StandinStats,
} from "../../standins/types.ts";

/** The stand-ins this test run started (test/setup/global-setup.ts). */
export const standins = new StandinClient(env.STANDIN_URL);

/** Accepted pushes, oldest first. */
export const pushes = (filter: PushFilter = {}) => standins.pushes(filter);
/** Every request that reached a push route for `token`, with the status it got (retries included). */
export const requests = (token: string) => standins.requests(token);
/** Every request that reached a push route for the event `eventId`, whatever the token. */
export const requestsOfEvent = (eventId: string) => standins.requestsOfEvent(eventId);
/** The next pushes to `token` get these answers, in order (replaces an earlier script for it). */
export const script = (token: string, responses: ScriptedResponse[]) => standins.script(token, responses);
/** Random faults; scope them with `token_prefix` so other test files are not disturbed. */
export const failRate = (config: FailRateConfig) => standins.failRate(config);
/** Trusts this key as one of the stand-in Cloudflare Access team's signing keys. */
export const registerAccessKey = (registration: AccessKeyRegistration) => standins.registerAccessKey(registration);
/** Counters for one account: service account (`client_email`), APNs key (`key_id`), Expo access token, OneSignal app. */
export const stats = (filter: StatsFilter = {}) => standins.stats(filter);
/** Polls until at least `count` pushes match `filter`; throws with what arrived on timeout. */
export const waitForPushes = (filter: PushFilter, count: number, timeoutMs = 5000) => standins.waitForMatching(filter, count, timeoutMs);

let counter = 0;
/** Unique per call and per test file (files run in parallel against one stand-in). */
function unique(): string {
  return `${Date.now().toString(36)}${(counter++).toString(36)}${crypto.randomUUID().slice(0, 8)}`;
}

/** A service account known only to the calling test. */
export interface FreshServiceAccount {
  clientEmail: string;
  projectId: string;
  privateKeyId: string;
  privateKey: CryptoKey;
  privateKeyPem: string;
  tokenUri: string;
  /** The relay configuration for it: the service-account JSON and the FCM base URL. */
  config: { FCM_SERVICE_ACCOUNT: string; FCM_API_BASE: string };
}

/**
 * Generates an RS256 service account inside workerd and registers its public
 * key with the stand-ins. `tokenTtlSeconds` shortens its access tokens' life
 * (Google's is 3599) to exercise expiry and refresh.
 */
export async function freshServiceAccount(options: { tokenTtlSeconds?: number } = {}): Promise<FreshServiceAccount> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const id = unique();
  const projectId = `test-project-${id}`;
  const clientEmail = `relay-${id}@${projectId}.iam.gserviceaccount.com`;
  const privateKeyId = `kid-${id}`;
  const privateKeyPem = await exportPKCS8(privateKey);
  const tokenUri = `${env.STANDIN_URL}/token`;
  await standins.registerServiceAccount({
    client_email: clientEmail,
    project_id: projectId,
    private_key_id: privateKeyId,
    public_jwk: await exportJWK(publicKey),
    ...(options.tokenTtlSeconds === undefined ? {} : { token_ttl_seconds: options.tokenTtlSeconds }),
  });
  const json = {
    type: "service_account",
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKeyPem,
    client_email: clientEmail,
    token_uri: tokenUri,
  };
  return {
    clientEmail,
    projectId,
    privateKeyId,
    privateKey,
    privateKeyPem,
    tokenUri,
    config: { FCM_SERVICE_ACCOUNT: JSON.stringify(json), FCM_API_BASE: env.STANDIN_URL },
  };
}

/** An APNs key known only to the calling test. */
export interface FreshApnsKey {
  keyId: string;
  teamId: string;
  topic: string;
  privateKey: CryptoKey;
  privateKeyPem: string;
  /** The relay configuration for it. */
  config: { APNS_KEY: string; APNS_KEY_ID: string; APNS_TEAM_ID: string; APNS_TOPIC: string; APNS_API_BASE: string };
}

/** Upper-case letters and digits, 10 characters, like Apple's ids. */
function appleId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase();
}

/** Generates an ES256 (P-256) key inside workerd and registers it with the stand-ins. */
export async function freshApnsKey(options: { topic?: string } = {}): Promise<FreshApnsKey> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const keyId = appleId();
  const teamId = appleId();
  const topic = options.topic ?? `com.example.test.${unique()}`;
  await standins.registerApnsKey({ key_id: keyId, team_id: teamId, topic, public_jwk: await exportJWK(publicKey) });
  const privateKeyPem = await exportPKCS8(privateKey);
  return {
    keyId,
    teamId,
    topic,
    privateKey,
    privateKeyPem,
    config: {
      APNS_KEY: privateKeyPem,
      APNS_KEY_ID: keyId,
      APNS_TEAM_ID: teamId,
      APNS_TOPIC: topic,
      APNS_API_BASE: env.STANDIN_URL,
    },
  };
}

/** Both fresh credentials, and the relay configuration for them (spread it over `env`). */
export async function freshCredentials(options: { tokenTtlSeconds?: number } = {}) {
  const [fcm, apns] = await Promise.all([freshServiceAccount(options), freshApnsKey()]);
  return { fcm, apns, config: { ...fcm.config, ...apns.config } };
}

/** An Expo access token known only to the calling test. */
export interface FreshExpoAccessToken {
  accessToken: string;
  /** The relay configuration for it. */
  config: { EXPO_ACCESS_TOKEN: string; EXPO_API_BASE: string };
}

/** Registers a new Expo access token with the stand-ins. */
export async function freshExpoAccessToken(): Promise<FreshExpoAccessToken> {
  const accessToken = `expo-${unique()}`;
  await standins.registerExpoAccessToken(accessToken);
  return { accessToken, config: { EXPO_ACCESS_TOKEN: accessToken, EXPO_API_BASE: env.STANDIN_URL } };
}

/** A OneSignal app known only to the calling test. */
export interface FreshOneSignalApp {
  appId: string;
  apiKey: string;
  /** The relay configuration for it. */
  config: { ONESIGNAL_APP_ID: string; ONESIGNAL_API_KEY: string; ONESIGNAL_API_BASE: string };
  /** Tells the app what it knows of these external ids. */
  users(externalIds: string[], state: OneSignalUsers["state"]): Promise<void>;
}

/** Registers a new OneSignal app, with its App API key, with the stand-ins; it knows no users yet. */
export async function freshOneSignalApp(): Promise<FreshOneSignalApp> {
  const appId = crypto.randomUUID();
  const apiKey = `os_v2_app_${unique()}`;
  await standins.registerOneSignalApp({ app_id: appId, api_key: apiKey });
  return {
    appId,
    apiKey,
    config: { ONESIGNAL_APP_ID: appId, ONESIGNAL_API_KEY: apiKey, ONESIGNAL_API_BASE: env.STANDIN_URL },
    users: (externalIds, state) => standins.oneSignalUsers({ app_id: appId, external_ids: externalIds, state }),
  };
}

/** A Huawei app known only to the calling test. */
export interface FreshHmsApp {
  appId: string;
  appSecret: string;
  /** The relay configuration for it. */
  config: { HMS_APP_ID: string; HMS_APP_SECRET: string; HMS_API_BASE: string; HMS_OAUTH_URL: string };
}

/** Registers a new Huawei app (App ID and App Secret) with the stand-in token endpoint. */
export async function freshHmsApp(options: { tokenTtlSeconds?: number } = {}): Promise<FreshHmsApp> {
  const appId = String(100_000_000 + Math.floor(Math.random() * 900_000_000));
  const appSecret = `secret-${unique()}`;
  await standins.registerHmsApp({ app_id: appId, app_secret: appSecret, ...(options.tokenTtlSeconds ? { token_ttl_seconds: options.tokenTtlSeconds } : {}) });
  return {
    appId,
    appSecret,
    config: { HMS_APP_ID: appId, HMS_APP_SECRET: appSecret, HMS_API_BASE: env.STANDIN_URL, HMS_OAUTH_URL: `${env.STANDIN_URL}/oauth2/v3/token` },
  };
}
