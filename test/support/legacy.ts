/**
 * The previous ledger (tables `events`, `notifications`, `deliveries`),
 * filled directly as the previous version left it: what a deploy finds in
 * flight, what the conversion and retention work on. Builders with
 * overrides; every row its own ids.
 */
import { env } from "cloudflare:workers";
import { forgetLegacyEmpty, type LegacyRow } from "../../src/db/legacy";

/** A delivery row of the previous ledger, with the columns the conversion reads (legacy.ts LegacyRow). */
export type LegacyDelivery = { device_token: string } & Pick<
  LegacyRow,
  "provider" | "app" | "status" | "attempts" | "provider_id" | "error" | "detail" | "claimed_by" | "claimed_until" | "next_attempt_at" | "latency_ms" | "created_at" | "updated_at"
>;

export interface LegacyNotification {
  idx: number;
  user_id: string | null;
  custom_id: string | null;
  title: string | null;
  body: string | null;
  path: string | null;
  opened_at: number | null;
  created_at: number;
  deliveries: LegacyDelivery[];
}

export interface LegacyEvent {
  event_id: string;
  received_at: number;
  replayed_at: number | null;
  notifications: LegacyNotification[];
}

/** A delivery row: sent to an FCM device unless overridden. */
export function legacyDelivery(overrides: Partial<LegacyDelivery> & Pick<LegacyDelivery, "device_token">): LegacyDelivery {
  const at = overrides.updated_at ?? Date.now();
  return {
    provider: "fcm",
    app: "default",
    status: "sent",
    attempts: 1,
    provider_id: `projects/p/messages/${crypto.randomUUID()}`,
    error: null,
    detail: null,
    claimed_by: null,
    claimed_until: null,
    next_attempt_at: null,
    latency_ms: 120,
    created_at: at,
    updated_at: at,
    ...overrides,
  };
}

/** A notification row with its deliveries. */
export function legacyNotification(idx: number, deliveries: LegacyDelivery[], overrides: Partial<LegacyNotification> = {}): LegacyNotification {
  return {
    idx,
    user_id: `usr_${crypto.randomUUID().slice(0, 8)}`,
    custom_id: null,
    title: "Time for your training",
    body: "Safety 101 is waiting",
    path: "/courses/safety-101",
    opened_at: null,
    created_at: Date.now(),
    deliveries,
    ...overrides,
  };
}

/** Writes the events, their notifications and deliveries, and lets this isolate look at the previous ledger again. */
export async function seedLegacy(events: readonly LegacyEvent[]): Promise<void> {
  const notifications = events.flatMap((e) => e.notifications.map(({ deliveries: _, ...n }) => ({ ...n, event_id: e.event_id })));
  const deliveries = events.flatMap((e) => e.notifications.flatMap((n) => n.deliveries.map((d) => ({ ...d, event_id: e.event_id, idx: n.idx }))));
  const columns = (row: object) => Object.keys(row).join(", ");
  const values = (row: object) => Object.keys(row).map((k) => `j.value->>'${k}'`).join(", ");
  const insert = (table: string, rows: readonly object[]) =>
    env.DB.prepare(`INSERT INTO ${table} (${columns(rows[0]!)}) SELECT ${values(rows[0]!)} FROM json_each(?1) AS j`).bind(JSON.stringify(rows));
  const statements = [insert("events", events.map(({ notifications: _, ...e }) => e))];
  if (notifications.length > 0) statements.push(insert("notifications", notifications));
  if (deliveries.length > 0) statements.push(insert("deliveries", deliveries));
  await env.DB.batch(statements);
  forgetLegacyEmpty();
}

/** The previous ledger's rows of an event, per table. */
export async function legacyRows(eventId: string): Promise<{ events: number; notifications: number; deliveries: number }> {
  const count = (table: string) => env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE event_id = ?1`).bind(eventId).first<number>("n");
  return { events: (await count("events"))!, notifications: (await count("notifications"))!, deliveries: (await count("deliveries"))! };
}
