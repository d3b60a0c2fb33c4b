/**
 * Builds LearnInk events and signs them the way Svix does, with the svix
 * library itself, for requests into the Worker.
 */
import { exports } from "cloudflare:workers";
import { Webhook } from "svix";
import type { LearnInkNotification } from "../../src/webhook/learnink";

/** The secret the test configuration gives the relay (the first of its list). */
export const TEST_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/** A second, valid secret that the relay does not know. */
export const OTHER_SECRET = "whsec_" + btoa("another-secret-of-32-bytes-long!");
export const RELAY = "https://relay.test";
export const API_KEY = "test-key-1";

export type NotificationInput = LearnInkNotification;

let counter = 0;
/** A unique id for this test run, for event ids, users and tokens. */
export const uniqueId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

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
  return {
    api_version: "2022-11-15",
    object: "event",
    type: "notifications.sent",
    timestamp: new Date().toISOString(),
    data: { notifications },
    ...overrides,
  };
}

export interface SignOptions {
  id?: string;
  secret?: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
}

/** Svix headers for `body`, signed with the svix library. */
export function svixHeaders(body: string, options: SignOptions = {}): Record<string, string> {
  const id = options.id ?? uniqueId("msg");
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = new Webhook(options.secret ?? TEST_SECRET).sign(id, new Date(timestamp * 1000), body);
  return {
    "content-type": "application/json",
    "svix-id": id,
    "svix-timestamp": String(timestamp),
    "svix-signature": signature,
  };
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
export const apnsToken = () => [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("");
export const fcmToken = () => `${uniqueId("fcm")}:APA91b${"x".repeat(120)}`;

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
