/**
 * Builds LearnInk events and signs them the way Svix does, with the svix
 * library itself, for requests into the Worker.
 */
import { env, exports } from "cloudflare:workers";
import { app } from "../../src/app";
import type { PushJob } from "../../src/queue/message";
import { learnInkEvent, svixHeaders as signedHeaders } from "../../standins/learnink.ts";
import type { LearnInkNotification } from "../../src/webhook/learnink";

/** The secret the test configuration gives the relay (the first of its list). */
export const TEST_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/** A second, valid secret that the relay does not know. */
export const OTHER_SECRET = "whsec_" + btoa("another-secret-of-32-bytes-long!");
export const RELAY = "https://relay.test";
export const API_KEY = "test-key-1";

export type NotificationInput = LearnInkNotification;

import { uniqueId } from "./ids";

export { apnsToken, fcmToken, hmsToken, uniqueId } from "./ids";

export function notification(overrides: Partial<NotificationInput> = {}): NotificationInput {
  return {
    title: "Time for your training",
    body: "Your course Safety 101 is waiting for you.",
    path: "/courses/safety-101",
    user_id: uniqueId("usr"),
    custom_id: null,
    phone_number: "+15555550100",
    ...overrides,
  };
}

export function notificationsSent(notifications: NotificationInput[], overrides: Record<string, unknown> = {}) {
  return { ...learnInkEvent("notifications.sent", { notifications }), ...overrides };
}

export interface SignOptions {
  id?: string;
  secret?: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
}

/** Svix headers for `body`, signed with the svix library. */
export function svixHeaders(body: string, options: SignOptions = {}): Record<string, string> {
  return signedHeaders(options.secret ?? TEST_SECRET, options.id ?? uniqueId("msg"), body, options.timestamp);
}

/** Builds the signed webhook request; `body` may be an object (JSON-encoded) or raw text. */
export function signedRequest(body: unknown, options: SignOptions = {}): Request {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new Request(`${RELAY}/webhooks/learnink`, { method: "POST", headers: svixHeaders(text, options), body: text });
}

/** Sends a signed webhook into the Worker (fetch handler, real queue binding). */
export async function postWebhook(body: unknown, options: SignOptions = {}): Promise<Response> {
  return exports.default.fetch(signedRequest(body, options));
}

/**
 * Svix headers for raw bytes, signed the way Svix does (HMAC-SHA256 over
 * `${id}.${timestamp}.` and exactly these bytes): the svix library signs
 * text, which cannot hold bytes that are not UTF-8.
 */
export async function svixHeadersForBytes(body: Uint8Array, options: SignOptions = {}): Promise<Record<string, string>> {
  const id = options.id ?? uniqueId("msg");
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const secret = Uint8Array.from(atob((options.secret ?? TEST_SECRET).slice("whsec_".length)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, signed));
  return {
    "content-type": "application/json",
    "svix-id": id,
    "svix-timestamp": String(timestamp),
    "svix-signature": `v1,${btoa(String.fromCharCode(...mac))}`,
  };
}

/** A queue that keeps what it is given, so a test can read the messages. */
export function capturingQueue() {
  const batches: { body: PushJob; delaySeconds?: number }[][] = [];
  const queue = {
    async send(body: PushJob, options?: { delaySeconds?: number }) {
      batches.push([{ body, ...options }]);
    },
    async sendBatch(messages: Iterable<{ body: PushJob; delaySeconds?: number }>) {
      batches.push([...messages]);
    },
  };
  return {
    queue: queue as unknown as Queue,
    batches,
    jobs: () => batches.flat().map((m) => m.body),
    notifications: () => batches.flat().flatMap((m) => m.body.notifications),
  };
}

/** Runs the Hono app in this isolate with some bindings replaced (a capturing queue, a failing D1). */
export function fetchWith(request: Request, overrides: Partial<Env>): Promise<Response> {
  return Promise.resolve(app.fetch(request, { ...env, ...overrides }));
}

/** The `error` of a JSON error answer. */
export async function errorOf(response: Response) {
  return ((await response.json()) as { error: { code: string; message: string; field?: string } }).error;
}

/** A rejection as the webhook's answer lists it. */
export interface RejectionJson {
  index: number;
  field: string | null;
  code: string;
  message: string;
}

/** The webhook's 200 answer for a notifications.sent event. */
export interface AcceptedJson {
  received: true;
  event_id: string;
  type: string;
  notifications: number;
  queued: number;
  rejected: number;
  messages: number;
  rejections: RejectionJson[];
}

/** Calls the bearer-protected API. */
export function api(path: string, init: RequestInit & { json?: unknown; key?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set("authorization", `Bearer ${init.key ?? API_KEY}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return exports.default.fetch(`${RELAY}${path}`, { ...init, headers, body });
}

/** A random hex APNs token and a random FCM-shaped token. */

/** Polls `fn` until it returns a value for which `done` holds, or fails after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await fn();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await fn();
  }
  return value;
}
