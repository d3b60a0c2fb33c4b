/**
 * The OneSignal stand-in refuses what OneSignal refuses (a foreign app or
 * key, mixed targeting, more than 20,000 aliases, no English content, an
 * idempotency key that is not a UUID), answers a repeated idempotency key
 * with the earlier answer without a second notification, and names users
 * without a subscription in `errors.invalid_aliases` with a 200.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { uniqueId } from "../support/ids";
import { type FreshOneSignalApp, freshOneSignalApp, pushes, requests, script, stats } from "../support/standins";

function notification(app: FreshOneSignalApp, externalIds: string[], overrides: Record<string, unknown> = {}) {
  return {
    app_id: app.appId,
    target_channel: "push",
    include_aliases: { external_id: externalIds },
    headings: { en: "Time for your training" },
    contents: { en: "Safety 101 is waiting" },
    data: { path: "/courses/safety-101", url: "https://m.learn.ink/acme/courses/safety-101?webview=true", event_id: uniqueId("msg") },
    idempotency_key: crypto.randomUUID(),
    ttl: 86_400,
    ...overrides,
  };
}

function create(body: unknown, authorization: string | null): Promise<Response> {
  return fetch(`${env.STANDIN_URL}/notifications?c=push`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization === null ? {} : { authorization }) },
    body: JSON.stringify(body),
  });
}

const key = (app: FreshOneSignalApp) => `Key ${app.apiKey}`;

async function answer(response: Response): Promise<[number, unknown]> {
  return [response.status, await response.json()];
}

describe("OneSignal stand-in", () => {
  it("creates one notification for the subscribed users and records a push per user", async () => {
    const app = await freshOneSignalApp();
    const users = [uniqueId("u"), uniqueId("u")];
    await app.users(users, "subscribed");
    const body = notification(app, users);
    const [status, result] = await answer(await create(body, key(app)));
    expect(status).toBe(200);
    expect(result).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), external_id: null });
    const recorded = (await Promise.all(users.map((u) => pushes({ token: u, provider: "onesignal" })))).flat();
    expect(recorded).toHaveLength(2);
    expect(recorded[0]).toMatchObject({
      title: "Time for your training",
      body: "Safety 101 is waiting",
      path: "/courses/safety-101",
      event_id: body.data.event_id,
      provider_id: (result as { id: string }).id,
      payload: { idempotency_key: body.idempotency_key, target_channel: "push" },
    });
    expect(await stats({ app_id: app.appId })).toMatchObject({ onesignal_notifications: 1, onesignal_pushes: 2 });
  });

  it("answers a repeated idempotency key with the earlier answer and creates nothing new", async () => {
    const app = await freshOneSignalApp();
    const user = uniqueId("u");
    await app.users([user], "subscribed");
    const body = notification(app, [user]);
    const first = await answer(await create(body, key(app)));
    const again = await answer(await create({ ...body, contents: { en: "changed" } }, key(app)));
    expect(again).toEqual(first);
    expect(await pushes({ token: user })).toHaveLength(1);
    expect((await requests(user)).map((r) => r.reason)).toEqual([null, "idempotent_repeat"]);
    expect(await stats({ app_id: app.appId })).toMatchObject({ onesignal_notifications: 1 });
  });

  it("names users without a subscription in errors.invalid_aliases, ignores unknown ones, and has no id when nobody is reached", async () => {
    const app = await freshOneSignalApp();
    const [subscribed, unsubscribed, unknown] = [uniqueId("u"), uniqueId("u"), uniqueId("u")];
    await app.users([subscribed], "subscribed");
    await app.users([unsubscribed], "unsubscribed");
    expect(await answer(await create(notification(app, [subscribed, unsubscribed, unknown]), key(app)))).toEqual([
      200,
      { id: expect.stringMatching(/^[0-9a-f-]{36}$/), external_id: null, errors: { invalid_aliases: { external_id: [unsubscribed] } } },
    ]);
    expect(await answer(await create(notification(app, [unsubscribed]), key(app)))).toEqual([
      200,
      { id: "", external_id: null, errors: { invalid_aliases: { external_id: [unsubscribed] } } },
    ]);
    expect(await answer(await create(notification(app, [unknown]), key(app)))).toEqual([
      200,
      { id: "", external_id: null, errors: ["All included players are not subscribed"] },
    ]);
    expect(await pushes({ token: unsubscribed })).toEqual([]);
    expect(await stats({ app_id: app.appId })).toMatchObject({ onesignal_notifications: 1, onesignal_pushes: 1 });
  });

  it("refuses a missing or wrong key, another app's key, and an unknown app", async () => {
    const app = await freshOneSignalApp();
    const other = await freshOneSignalApp();
    const body = notification(app, [uniqueId("u")]);
    expect((await create(body, null)).status).toBe(403);
    expect((await create(body, `Basic ${app.apiKey}`)).status).toBe(403);
    expect((await create(body, key(other))).status).toBe(403);
    expect((await create({ ...body, app_id: crypto.randomUUID() }, key(app))).status).toBe(400);
  });

  it("refuses mixed targeting, no target channel, no English content, over 20,000 aliases and a key that is not a UUID", async () => {
    const app = await freshOneSignalApp();
    const user = uniqueId("u");
    await app.users([user], "subscribed");
    const bad = [
      notification(app, [user], { included_segments: ["Subscribed Users"] }),
      notification(app, [user], { target_channel: undefined }),
      notification(app, [user], { contents: { de: "Nur Deutsch" } }),
      notification(app, [user], { headings: { de: "Titel" } }),
      notification(app, [user], { idempotency_key: "event-1:0" }),
      notification(app, Array.from({ length: 20_001 }, (_, i) => `${user}-${i}`)),
    ];
    for (const body of bad) {
      const response = await create(body, key(app));
      expect(response.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(((await response.json()) as { errors: unknown[] }).errors).toHaveLength(1);
    }
    expect(await pushes({ token: user })).toEqual([]);
    expect((await create(notification(app, [user, ...Array.from({ length: 19_999 }, (_, i) => `${user}-${i}`)]), key(app))).status).toBe(200);
  });

  it("answers a scripted failure for the whole request, and then the request again", async () => {
    const app = await freshOneSignalApp();
    const [first, second] = [uniqueId("u"), uniqueId("u")];
    await app.users([first, second], "subscribed");
    await script(second, [{ preset: "onesignal_rate_limited", retryAfter: 3 }]);
    const body = notification(app, [first, second]);
    const throttled = await create(body, key(app));
    expect([throttled.status, throttled.headers.get("retry-after"), await throttled.json()]).toEqual([429, "3", { errors: ["API rate limit exceeded"] }]);
    // A refused request was not processed: the same key sends it now.
    expect((await create(body, key(app))).status).toBe(200);
    expect(await pushes({ token: first })).toHaveLength(1);
  });
});
