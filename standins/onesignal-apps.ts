/**
 * The OneSignal apps the stand-in knows: each app's App API key, what it
 * knows of each external id (a user with a push subscription, one without,
 * or none), and the answers it gave per idempotency key, which it gives
 * again instead of creating a second notification.
 */
import type { Answer } from "./http.ts";
import type { OneSignalAppRegistration, OneSignalUsers } from "./types.ts";

/** A UUID in its canonical text form (OneSignal's app ids and idempotency keys are UUIDs). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** OneSignal keeps an idempotency key for 30 days. */
export const IDEMPOTENCY_DAYS = 30;
/** Per app; past it the oldest keys are forgotten (a benchmark sends many). */
const IDEMPOTENCY_CAPACITY = 100_000;

export type UserState = OneSignalUsers["state"];

export interface OneSignalApp {
  appId: string;
  apiKey: string;
  /** External id -> state; ids never registered are unknown. */
  users: Map<string, Exclude<UserState, "unknown">>;
  /** Idempotency key -> the answer given and when (epoch ms). */
  answered: Map<string, { answer: Answer; at: number }>;
}

export class OneSignalApps {
  #apps = new Map<string, OneSignalApp>();

  /** Registers an app (again: a new key, the same users). */
  add(registration: OneSignalAppRegistration): void {
    const known = this.#apps.get(registration.app_id);
    if (known) known.apiKey = registration.api_key;
    else this.#apps.set(registration.app_id, { appId: registration.app_id, apiKey: registration.api_key, users: new Map(), answered: new Map() });
  }

  get(appId: string): OneSignalApp | undefined {
    return this.#apps.get(appId);
  }

  /** False when the app is unknown. */
  setUsers(update: OneSignalUsers): boolean {
    const app = this.#apps.get(update.app_id);
    if (!app) return false;
    for (const id of update.external_ids) {
      if (update.state === "unknown") app.users.delete(id);
      else app.users.set(id, update.state);
    }
    return true;
  }

  /** The answer an earlier request with this key got, if OneSignal still remembers it at `nowMs`. */
  remembered(app: OneSignalApp, key: string, nowMs: number): Answer | undefined {
    const entry = app.answered.get(key);
    if (!entry) return undefined;
    if (nowMs - entry.at > IDEMPOTENCY_DAYS * 24 * 60 * 60_000) {
      app.answered.delete(key);
      return undefined;
    }
    return entry.answer;
  }

  remember(app: OneSignalApp, key: string, answer: Answer, nowMs: number): void {
    if (app.answered.size >= IDEMPOTENCY_CAPACITY) {
      const oldest = app.answered.keys().next();
      if (!oldest.done) app.answered.delete(oldest.value);
    }
    app.answered.set(key, { answer, at: nowMs });
  }
}

/** Why `value` is not a OneSignalAppRegistration, or null. */
export function appRegistrationProblem(value: Record<string, unknown>): string | null {
  if (typeof value.app_id !== "string" || !UUID.test(value.app_id)) return "app_id must be a UUID";
  if (typeof value.api_key !== "string" || value.api_key === "") return "api_key must be a non-empty string";
  return null;
}

/** Why `value` is not a OneSignalUsers update, or null. */
export function usersProblem(value: Record<string, unknown>): string | null {
  if (typeof value.app_id !== "string") return "app_id must be a string";
  if (!Array.isArray(value.external_ids) || !value.external_ids.every((id) => typeof id === "string" && id !== "")) {
    return "external_ids must be a list of non-empty strings";
  }
  if (!["subscribed", "unsubscribed", "unknown"].includes(value.state as string)) {
    return 'state must be "subscribed", "unsubscribed" or "unknown"';
  }
  return null;
}
