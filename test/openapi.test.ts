/**
 * docs/openapi.json against the running Worker: every /v1 route the app
 * serves is in the document and every documented route is served; every
 * answer the document lists (errors included) is produced here and checked
 * against its schema; request bodies the Worker accepts fit the document's
 * request schemas. A change to a route, a field or an error that the
 * document does not follow fails here.
 */
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { MAX_BODY_BYTES } from "../src/http/body-limit";
import { REGISTER_KEY, deviceToken } from "./support/device-tokens";
import { fakeProviders, job, queued, registerDevice, runBatch } from "./support/delivery";
import {
  type Method,
  answerKey,
  componentKey,
  documentedMethods,
  expectAcceptedBody,
  expectComponentAnswer,
  expectDocumented,
  operations,
  seen,
  spec,
} from "./support/openapi";
import { API_KEY, RELAY, capturingQueue, fcmToken, fetchWith, uniqueId } from "./support/webhook";
import { env } from "cloudflare:workers";

interface Call {
  /** Bearer credential; null sends none. Default: the admin key. */
  key?: string | null;
  json?: unknown;
  body?: string;
  query?: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  env?: Partial<Env>;
}

/** `template` with its parameters filled in: from `params`, else a fresh id. */
const pathOf = (template: string, params: Record<string, string> = {}) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? uniqueId(name)));

/** Calls `method template` on the Worker and checks the answer against the document. */
async function call(method: Method, template: string, options: Call = {}): Promise<{ status: number; body: unknown }> {
  const path = pathOf(template, options.params);
  const headers = new Headers(options.headers);
  if (options.key !== null) headers.set("authorization", `Bearer ${options.key ?? API_KEY}`);
  let body = options.body;
  if (options.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(options.json);
  }
  const request = new Request(`${RELAY}${path}${options.query ?? ""}`, { method: method.toUpperCase(), headers, body });
  const response = await fetchWith(request, options.env ?? {});
  const status = response.status;
  const parsed = await expectDocumented(method, template, response);
  if (status < 300 && options.json !== undefined) expectAcceptedBody(method, template, options.json);
  return { status, body: parsed };
}

const errorOf = (body: unknown) => (body as { error: { code: string; field?: string } }).error;
const API_OPERATIONS = operations().filter((o) => o.template !== "/v1/openapi.json");
/** Operations only an admin key may call: a register key gets 403 there. */
const ADMIN_ONLY = API_OPERATIONS.filter((o) => (o.operation.security ?? spec.security).every((s) => Object.keys(s).join() === "adminKey"));

/** A held device, as the pruning brake leaves it. */
async function quarantinedDevice(): Promise<string> {
  const token = fcmToken();
  await registerDevice({ custom_id: uniqueId("held"), provider: "fcm", token });
  await env.DB.prepare("UPDATE devices SET quarantined_at = ?2, quarantine_reason = 'UNREGISTERED' WHERE token = ?1").bind(token, Date.now()).run();
  return token;
}

/** An event whose one delivery failed for good. */
async function failedEvent(): Promise<string> {
  const customId = uniqueId("emp");
  await registerDevice({ custom_id: customId, provider: "fcm", token: fcmToken() });
  const event = job([queued({ custom_id: customId })]);
  await runBatch([event], { providers: fakeProviders(() => ({ kind: "failed", reason: "provider_said_no" })) });
  return event.event_id;
}

/** An event whose one delivery was sent. */
async function sentEvent(): Promise<string> {
  const customId = uniqueId("emp");
  await registerDevice({ custom_id: customId, provider: "fcm", token: fcmToken() });
  const event = job([queued({ custom_id: customId })]);
  await runBatch([event], { providers: fakeProviders() });
  return event.event_id;
}

/** An event whose one delivery the quiet hours hold: 22:00 on its device's clock (Nairobi, UTC+3). */
async function heldEvent(): Promise<string> {
  const customId = uniqueId("emp");
  await registerDevice({ custom_id: customId, provider: "fcm", token: fcmToken(), time_zone: "Africa/Nairobi" });
  const event = job([queued({ custom_id: customId })]);
  const quiet = { QUIET_HOURS: "21:00-07:30", DEFAULT_TIME_ZONE: "" };
  await runBatch([event], { providers: fakeProviders(), now: () => Date.parse("2026-12-07T19:00:00Z") }, 1, quiet);
  return event.event_id;
}

describe("docs/openapi.json and the app's routes", () => {
  it("documents every /v1 route the app serves, and serves every documented one", () => {
    const served = app.routes
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/v1/"))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = operations().map((o) => `${o.method.toUpperCase()} ${o.template}`);
    expect(new Set(documented)).toEqual(new Set(served));
    expect(spec.openapi).toBe("3.1.0");
    expect(new Set(operations().map((o) => o.operation.operationId)).size).toBe(operations().length);
  });

  it("is served at GET /v1/openapi.json without a credential, as it is in docs/", async () => {
    const { status, body } = await call("get", "/v1/openapi.json", { key: null });
    expect(status).toBe(200);
    expect(body).toEqual(spec);
  });
});

describe("every operation's common answers", () => {
  it.each(API_OPERATIONS.map((o) => [o.method, o.template] as const))("%s %s: 401 without a credential", async (method, template) => {
    const { status, body } = await call(method, template, { key: null });
    expect(status).toBe(401);
    expect(errorOf(body).code).toBe("unauthorized");
  });

  it.each(API_OPERATIONS.map((o) => [o.method, o.template] as const))("%s %s: 500 while RELAY_API_KEY is unset", async (method, template) => {
    const { status, body } = await call(method, template, { env: { RELAY_API_KEY: "" } });
    expect(status).toBe(500);
    expect(errorOf(body).code).toBe("not_configured");
  });

  it.each(ADMIN_ONLY.map((o) => [o.method, o.template] as const))("%s %s: 403 for a register key", async (method, template) => {
    const { status, body } = await call(method, template, { key: REGISTER_KEY, json: method === "post" ? {} : undefined });
    expect(status).toBe(403);
    expect(errorOf(body).code).toBe("forbidden");
  });

  it.each(API_OPERATIONS.filter((o) => o.method !== "get").map((o) => [o.method, o.template] as const))(
    "%s %s: 413 for a body over 64 KB, before the credential is checked",
    async (method, template) => {
      const { status, body } = await call(method, template, { key: null, body: "x".repeat(MAX_BODY_BYTES + 1) });
      expect(status).toBe(413);
      expect(errorOf(body).code).toBe("payload_too_large");
    },
  );

  it("429 with Retry-After on every operation for an address that keeps failing to authenticate", async () => {
    const address = `10.${[...crypto.getRandomValues(new Uint8Array(3))].join(".")}`;
    const headers = { "cf-connecting-ip": address };
    let status = 401;
    for (let i = 0; i < 30 && status === 401; i++) ({ status } = await call("get", "/v1/stats", { key: "wrong", headers }));
    expect(status).toBe(429);
    for (const { method, template } of API_OPERATIONS) {
      const answer = await call(method, template, { headers });
      expect(answer.status, `${method} ${template}`).toBe(429);
      expect(errorOf(answer.body).code).toBe("rate_limited");
    }
  });
});

describe("devices", () => {
  it("PUT /v1/devices: 201, 200, 400 with the field, 403 for another user's device token", async () => {
    const device = { custom_id: uniqueId("emp"), provider: "fcm", token: fcmToken(), platform: "android", time_zone: "Africa/Nairobi" };
    const created = await call("put", "/v1/devices", { json: device });
    expect([created.status, created.body]).toMatchObject([201, { device: { time_zone: "Africa/Nairobi" } }]);
    expect((await call("put", "/v1/devices", { json: { ...device, environment: "production" } })).status).toBe(200);
    const asApp = await deviceToken({ sub: uniqueId("emp") });
    expect((await call("put", "/v1/devices", { key: asApp, json: { provider: "apns", token: "ab".repeat(32) } })).status).toBe(201);
    const bad = await call("put", "/v1/devices", { json: { ...device, provider: "pigeon" } });
    expect([bad.status, errorOf(bad.body).field]).toEqual([400, "provider"]);
    const unknownZone = await call("put", "/v1/devices", { json: { ...device, time_zone: "Mars/Olympus_Mons" } });
    expect([unknownZone.status, errorOf(unknownZone.body).field]).toEqual([400, "time_zone"]);
    const notJson = await call("put", "/v1/devices", { body: "{", headers: { "content-type": "application/json" } });
    expect([notJson.status, errorOf(notJson.body).code]).toEqual([400, "invalid_json"]);
    const other = await call("put", "/v1/devices", { key: asApp, json: { ...device, custom_id: uniqueId("someone-else") } });
    expect(other.status).toBe(403);
  });

  it("DELETE /v1/devices/{token}: 204, then 404", async () => {
    const token = fcmToken();
    await registerDevice({ custom_id: uniqueId("emp"), provider: "fcm", token });
    expect((await call("delete", "/v1/devices/{token}", { key: REGISTER_KEY, params: { token } })).status).toBe(204);
    expect((await call("delete", "/v1/devices/{token}", { params: { token } })).status).toBe(404);
  });

  it("POST /v1/device-tokens: 200 for a register key, 400 on ttl_seconds, 403 for a device token", async () => {
    const minted = await call("post", "/v1/device-tokens", { key: REGISTER_KEY, json: { custom_id: uniqueId("emp"), ttl_seconds: 600 } });
    expect(minted.status).toBe(200);
    expect((await call("post", "/v1/device-tokens", { json: { user_id: uniqueId("li") } })).status).toBe(200);
    const bad = await call("post", "/v1/device-tokens", { key: REGISTER_KEY, json: { custom_id: "emp", ttl_seconds: 31 * 86_400 } });
    expect([bad.status, errorOf(bad.body).field]).toEqual([400, "ttl_seconds"]);
    const asApp = await deviceToken({ sub: uniqueId("emp") });
    expect((await call("post", "/v1/device-tokens", { key: asApp, json: { custom_id: "emp" } })).status).toBe(403);
  });

  it("GET /v1/users/{id}/devices: 200 by custom_id and by user_id, 400 on `by`", async () => {
    const [customId, userId] = [uniqueId("emp"), uniqueId("li")];
    await registerDevice({ custom_id: customId, user_id: userId, provider: "fcm", token: fcmToken() });
    const byCustomId = await call("get", "/v1/users/{id}/devices", { params: { id: customId } });
    expect((byCustomId.body as { devices: unknown[] }).devices).toHaveLength(1);
    expect((await call("get", "/v1/users/{id}/devices", { params: { id: userId }, query: "?by=user_id" })).status).toBe(200);
    const bad = await call("get", "/v1/users/{id}/devices", { params: { id: userId }, query: "?by=email" });
    expect([bad.status, errorOf(bad.body).field]).toEqual([400, "by"]);
    const asApp = await deviceToken({ sub: customId });
    expect((await call("get", "/v1/users/{id}/devices", { key: asApp, params: { id: customId } })).status).toBe(403);
  });
});

describe("operations", () => {
  it("GET /v1/events/{svix_id}: 200 with deliveries, 400 on status, 404 for an unknown event", async () => {
    const eventId = await failedEvent();
    const found = await call("get", "/v1/events/{svix_id}", { params: { svix_id: eventId } });
    expect(found.body).toMatchObject({ summary: { failed: 1 }, deliveries: [{ status: "failed", error: "provider_said_no" }] });
    const page = await call("get", "/v1/events/{svix_id}", { params: { svix_id: eventId }, query: "?status=failed&limit=1" });
    expect((page.body as { next_cursor: string | null }).next_cursor).not.toBeNull();
    const bad = await call("get", "/v1/events/{svix_id}", { params: { svix_id: eventId }, query: "?status=lost" });
    expect([bad.status, errorOf(bad.body).field]).toEqual([400, "status"]);
    expect((await call("get", "/v1/events/{svix_id}", { params: { svix_id: uniqueId("msg") } })).status).toBe(404);
  });

  it("GET /v1/events/{svix_id}: a delivery the quiet hours hold is `held`, in the summary and as a filter", async () => {
    const eventId = await heldEvent();
    const found = await call("get", "/v1/events/{svix_id}", { params: { svix_id: eventId } });
    expect(found.body).toMatchObject({ summary: { held: 1 }, deliveries: [{ status: "held", error: "quiet_hours", opened_at: null }] });
    const held = await call("get", "/v1/events/{svix_id}", { params: { svix_id: eventId }, query: "?status=held" });
    expect((held.body as { deliveries: unknown[] }).deliveries).toHaveLength(1);
  });

  it("POST /v1/events/{svix_id}/replay: 202 when something failed, 200 when nothing did, 404 for an unknown event", async () => {
    const queue = capturingQueue();
    const replayed = await call("post", "/v1/events/{svix_id}/replay", { params: { svix_id: await failedEvent() }, env: { PUSH_QUEUE: queue.queue } });
    expect(replayed.status).toBe(202);
    expect(queue.jobs()).toHaveLength(1);
    expect((await call("post", "/v1/events/{svix_id}/replay", { params: { svix_id: await sentEvent() } })).status).toBe(200);
    expect((await call("post", "/v1/events/{svix_id}/replay", { params: { svix_id: uniqueId("msg") } })).status).toBe(404);
  });

  it("GET /v1/users/{id}/deliveries: 200, 400 on limit", async () => {
    const eventId = await sentEvent();
    const rows = await call("get", "/v1/events/{svix_id}", { params: { svix_id: eventId } });
    const customId = (rows.body as { deliveries: { custom_id: string }[] }).deliveries[0]!.custom_id;
    const found = await call("get", "/v1/users/{id}/deliveries", { params: { id: customId } });
    expect(found.body).toMatchObject({ custom_id: customId, deliveries: [{ event_id: eventId, status: "sent" }] });
    const bad = await call("get", "/v1/users/{id}/deliveries", { params: { id: customId }, query: "?limit=0" });
    expect([bad.status, errorOf(bad.body).field]).toEqual([400, "limit"]);
  });

  it("POST /v1/check: 200 with each configured provider's answer", async () => {
    const checked = await call("post", "/v1/check");
    expect(checked.status).toBe(200);
    // The shape is what is checked here (test/ops/check.test.ts checks each verdict). The overall `ok` is not:
    // the default APNs key is shared by every test file, and a JWT another file signed minutes ago makes the
    // APNs stand-in answer TooManyProviderTokenUpdates, as Apple would.
    expect(checked.body).toMatchObject({ ok: expect.any(Boolean), checks: expect.arrayContaining([expect.objectContaining({ app: "default", provider: "fcm", ok: true })]) });
  });

  it("GET /v1/stats: 200", async () => {
    await failedEvent();
    expect((await call("get", "/v1/stats")).status).toBe(200);
  });
});

describe("opens", () => {
  it("POST /v1/opens: 202 the first time, 204 for a repeat, 404 for another user's, 400 on the field, 403 for a register key; the event and the stats show it", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ custom_id: customId, provider: "fcm", token: fcmToken() });
    const event = job([queued({ custom_id: customId })]);
    await runBatch([event], { providers: fakeProviders() });
    const asApp = await deviceToken({ sub: customId });
    const open = { event_id: event.event_id, index: 0 };

    expect((await call("post", "/v1/opens", { key: asApp, json: open })).status).toBe(202);
    // The index as FCM and Push Kit carry data: a digit string.
    expect((await call("post", "/v1/opens", { key: asApp, json: { ...open, index: "0" } })).status).toBe(204);
    expect((await call("post", "/v1/opens", { json: open })).status).toBe(204);
    const stranger = await deviceToken({ sub: uniqueId("stranger") });
    expect((await call("post", "/v1/opens", { key: stranger, json: open })).status).toBe(404);
    const bad = await call("post", "/v1/opens", { key: asApp, json: { ...open, index: -1 } });
    expect([bad.status, errorOf(bad.body).field]).toEqual([400, "index"]);
    const forbidden = await call("post", "/v1/opens", { key: REGISTER_KEY, json: open });
    expect([forbidden.status, errorOf(forbidden.body).code]).toEqual([403, "forbidden"]);

    const found = await call("get", "/v1/events/{svix_id}", { params: { svix_id: event.event_id } });
    expect(found.body).toMatchObject({ summary: { sent: 1, opened: 1 }, deliveries: [{ status: "sent", opened_at: expect.any(String) }] });
    const stats = await call("get", "/v1/stats");
    expect((stats.body as { opens: Record<string, number> }).opens["1h"]).toBeGreaterThanOrEqual(1);
  });
});

describe("quarantine", () => {
  it("GET /v1/quarantine: 200, 400 on limit", async () => {
    const token = await quarantinedDevice();
    const page = await call("get", "/v1/quarantine", { query: "?provider=fcm&limit=1000" });
    expect((page.body as { devices: { token: string }[] }).devices.map((d) => d.token)).toContain(token);
    const bad = await call("get", "/v1/quarantine", { query: "?limit=many" });
    expect([bad.status, errorOf(bad.body).field]).toEqual([400, "limit"]);
  });

  it.each(["/v1/quarantine/restore", "/v1/quarantine/confirm-removal"])("POST %s: 200, 400 on a filter", async (template) => {
    // An app no device belongs to: nothing of other tests is touched.
    expect((await call("post", template, { json: { provider: "fcm", app: uniqueId("app") } })).status).toBe(200);
    const bad = await call("post", template, { json: { provider: 7 } });
    expect([bad.status, errorOf(bad.body).field]).toEqual([400, "provider"]);
  });

  it("POST /v1/devices/{token}/restore and /confirm-removal: 200 and 204 for a held device, 404 for another", async () => {
    const restored = await call("post", "/v1/devices/{token}/restore", { params: { token: await quarantinedDevice() } });
    expect(restored.body).toMatchObject({ device: { quarantined_at: null } });
    expect((await call("post", "/v1/devices/{token}/confirm-removal", { params: { token: await quarantinedDevice() } })).status).toBe(204);
    expect((await call("post", "/v1/devices/{token}/restore", { params: { token: fcmToken() } })).status).toBe(404);
    expect((await call("post", "/v1/devices/{token}/confirm-removal", { params: { token: fcmToken() } })).status).toBe(404);
  });
});

describe("methods a documented path does not list", () => {
  it.each(Object.keys(spec.paths))("%s: 405 with Allow naming exactly the documented methods", async (template) => {
    const allowed = documentedMethods(template);
    for (const method of ["GET", "PUT", "POST", "DELETE", "PATCH"].filter((m) => !allowed.includes(m))) {
      const request = new Request(`${RELAY}${pathOf(template)}`, { method, headers: { authorization: `Bearer ${API_KEY}` } });
      const response = await fetchWith(request, {});
      expect(response.status, `${method} ${template}`).toBe(405);
      expect(response.headers.get("allow")?.split(", "), `${method} ${template}`).toEqual(allowed);
      expect(errorOf(await expectComponentAnswer("MethodNotAllowed", response)).code).toBe("method_not_allowed");
    }
  });
});

describe("coverage", () => {
  it("produced every answer the document lists", () => {
    const documented = operations().flatMap(({ method, template, operation }) =>
      Object.keys(operation.responses).map((status) => answerKey(method, template, status)),
    );
    expect(documented.filter((key) => !seen.has(key))).toEqual([]);
  });

  it("produced every answer of components.responses that no operation lists", () => {
    const listed = new Set(operations().flatMap(({ operation }) => Object.values(operation.responses).flatMap((a) => ("$ref" in a ? [a.$ref] : []))));
    const unlisted = Object.keys(spec.components.responses).map(componentKey).filter((ref) => !listed.has(ref));
    expect(unlisted.filter((ref) => !seen.has(ref))).toEqual([]);
  });
});
