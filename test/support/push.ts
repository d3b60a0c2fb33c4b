/**
 * Builders for the provider tests: freshly generated credentials (never
 * committed), a scripted fetch that records every request, a clock the
 * test moves, and the settings a provider reads.
 */
import { env } from "cloudflare:workers";
import { exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import type { PushMessage } from "../../src/push/provider";
import { uniqueId } from "./ids";

export const FCM_BASE = "https://fcm.test";
export const TOKEN_URI = "https://oauth.test/token";
export const APNS_BASE = "https://apns.test";


export interface ServiceAccount {
  json: string;
  clientEmail: string;
  privateKeyId: string;
  projectId: string;
  publicKey: CryptoKey;
  publicPem: string;
}

/** A new RSA service account, unique per call so credential caches never overlap between tests. */
export async function serviceAccount(overrides: Record<string, unknown> = {}): Promise<ServiceAccount> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const clientEmail = `${uniqueId("relay-")}@acme-test.iam.gserviceaccount.com`;
  const privateKeyId = uniqueId("kid");
  const fields = {
    type: "service_account",
    project_id: "acme-test",
    private_key_id: privateKeyId,
    private_key: await exportPKCS8(privateKey),
    client_email: clientEmail,
    token_uri: TOKEN_URI,
    ...overrides,
  };
  return {
    json: JSON.stringify(fields),
    clientEmail,
    privateKeyId,
    projectId: String(fields.project_id),
    publicKey,
    publicPem: await exportSPKI(publicKey),
  };
}

export interface ApnsKey {
  pem: string;
  keyId: string;
  teamId: string;
  publicKey: CryptoKey;
  publicPem: string;
}

/** A new APNs .p8-style key with its own key id (10 characters, like Apple's). */
export async function apnsKey(): Promise<ApnsKey> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  return {
    pem: await exportPKCS8(privateKey),
    keyId: uniqueId("K").slice(0, 10).toUpperCase().padEnd(10, "0"),
    teamId: "TEAM123456",
    publicKey,
    publicPem: await exportSPKI(publicKey),
  };
}

/** Provider settings over the test env; D1 is the real (per-file) test database. */
export function settings(overrides: Partial<Env> = {}): Env {
  return {
    ...env,
    FCM_SERVICE_ACCOUNT: "",
    FCM_API_BASE: FCM_BASE,
    APNS_KEY: "",
    APNS_KEY_ID: "",
    APNS_TEAM_ID: "",
    APNS_TOPIC: "ink.learn.app",
    APNS_API_BASE: APNS_BASE,
    ...overrides,
  };
}

export function pushMessage(overrides: Partial<PushMessage> = {}): PushMessage {
  return {
    token: "a".repeat(64),
    app: "default",
    environment: "production",
    title: "Time for your training",
    body: "Safety 101 is waiting",
    path: "/courses/safety-101",
    url: "https://m.learn.ink/acme/courses/safety-101?webview=true",
    event_id: "msg_2abc",
    index: 3,
    ...overrides,
  };
}

export interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** A fetch answering from `answer`, recording every request in `calls`. */
export function scriptedFetch(answer: (call: Recorded, n: number) => Response | Promise<Response>) {
  const calls: Recorded[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const call: Recorded = {
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      // Read a string body directly: workerd warns on .text() of a form body.
      body: typeof init?.body === "string" ? init.body : await request.text(),
    };
    calls.push(call);
    // Like the real fetch, give up when the caller aborts.
    const signal = init?.signal;
    return new Promise<Response>((resolve, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason));
      Promise.resolve(answer(call, calls.length)).then(resolve, reject);
    });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** A clock the test moves by hand (epoch ms). */
export function clock(start = Date.UTC(2026, 10, 20, 9, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

export const MINUTE = 60_000;
