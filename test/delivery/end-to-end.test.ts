/**
 * The whole path in workerd: a signed webhook into the Worker, the real
 * queue, the consumer, the real providers, and the stand-in OAuth, FCM and
 * APNs servers checking credentials like Google and Apple do.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createProviders } from "../../src/push/providers";
import { splitIntoJobs } from "../../src/queue/enqueue";
import { pushes, waitForPushes } from "../support/standins";
import { drainLikeTheQueue, eventDeliveries, job, ownProviders, queued, registerDevice, runBatch } from "../support/delivery";
import { apnsToken, eventually, fcmToken, notification, notificationsSent, postWebhook, uniqueId } from "../support/webhook";

describe("end to end through the queue", () => {
  it("delivers a signed webhook to FCM (custom_id) and APNs (user_id fallback) with title, body, path and tap link", async () => {
    const employee = uniqueId("emp");
    const learninkUser = uniqueId("li");
    const [android, iphone] = [fcmToken(), apnsToken()];
    await registerDevice({ provider: "fcm", token: android, custom_id: employee });
    await registerDevice({ provider: "apns", token: iphone, user_id: learninkUser });

    const eventId = uniqueId("msg");
    const response = await postWebhook(
      notificationsSent([
        notification({ custom_id: employee, title: "Fire safety", body: "Due tomorrow", path: "/courses/fire?step=2" }),
        notification({ custom_id: null, user_id: learninkUser, title: "Welcome", body: "Start here", path: "/home" }),
      ]),
      { id: eventId },
    );
    expect(response.status).toBe(200);

    const arrived = await waitForPushes({ event_id: eventId }, 2, 15_000);
    const fcm = arrived.find((p) => p.provider === "fcm")!;
    const apns = arrived.find((p) => p.provider === "apns")!;
    expect(fcm).toMatchObject({
      token: android,
      title: "Fire safety",
      body: "Due tomorrow",
      path: "/courses/fire?step=2",
      url: "https://m.learn.ink/acme/courses/fire?step=2&webview=true",
    });
    expect(apns).toMatchObject({ token: iphone, title: "Welcome", body: "Start here", path: "/home", url: "https://m.learn.ink/acme/home?webview=true" });
    expect(apns.headers).toMatchObject({ "apns-topic": env.APNS_TOPIC, "apns-push-type": "alert" });
    expect(JSON.stringify([fcm.payload, apns.payload])).not.toContain("+1555");

    const recorded = await eventually(() => eventDeliveries(eventId), (r) => r?.summary.sent === 2);
    expect(recorded!.deliveries.map((d) => d.provider_id)).toEqual([expect.any(String), expect.any(String)]);
  });

  it("sends one push per device when the same webhook arrives five times at once", async () => {
    const employee = uniqueId("emp");
    const tokens = [fcmToken(), apnsToken(), fcmToken()];
    await registerDevice({ provider: "fcm", token: tokens[0]!, custom_id: employee });
    await registerDevice({ provider: "apns", token: tokens[1]!, custom_id: employee });
    await registerDevice({ provider: "fcm", token: tokens[2]!, custom_id: employee });
    const eventId = uniqueId("msg");
    const event = notificationsSent([notification({ custom_id: employee })]);

    const answers = await Promise.all(Array.from({ length: 5 }, () => postWebhook(event, { id: eventId })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);

    await eventually(() => eventDeliveries(eventId), (r) => r?.summary.sent === 3, 15_000);
    // Copies that raced a claim come back within 10 s and must find everything sent.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const arrived = await pushes({ event_id: eventId });
    expect(arrived.map((p) => p.token).sort()).toEqual([...tokens].sort());
  });
});

describe("an id that is not Svix's", () => {
  it("sends once when the same id comes again in a new envelope: the ledger finds where it filed the first", async () => {
    const employee = uniqueId("emp");
    const token = fcmToken();
    await registerDevice({ provider: "fcm", token, custom_id: employee });
    // Not a Svix id, so the envelope's timestamp places the event; a sender other than Svix may change it on a repeat.
    const eventId = uniqueId("evt-manual");
    const first = notificationsSent([notification({ custom_id: employee })], { timestamp: new Date(Date.now() - 60_000).toISOString() });
    expect((await postWebhook(first, { id: eventId })).status).toBe(200);
    await eventually(() => eventDeliveries(eventId), (r) => r?.summary.sent === 1, 15_000);

    const again = notificationsSent([notification({ custom_id: employee })], { timestamp: new Date().toISOString() });
    expect((await postWebhook(again, { id: eventId })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await pushes({ event_id: eventId })).toHaveLength(1);
    expect((await eventDeliveries(eventId))!.summary).toEqual({ sent: 1 });
  });
});

describe("no duplicates under concurrency (real providers and stand-ins)", () => {
  it("five consumer invocations racing on copies of one event send each push once", async () => {
    const customIds = Array.from({ length: 20 }, () => uniqueId("emp"));
    const tokens: string[] = [];
    for (const [k, customId] of customIds.entries()) {
      const token = k % 2 === 0 ? fcmToken() : apnsToken();
      tokens.push(token);
      await registerDevice({ provider: k % 2 === 0 ? "fcm" : "apns", token, custom_id: customId });
    }
    const event = job(customIds.map((custom_id, i) => queued({ i, custom_id })));
    const providers = await ownProviders();

    const runs = await Promise.all(Array.from({ length: 5 }, () => runBatch([structuredClone(event)], { providers })));
    // Losers were told to come back; when they do, everything is final.
    const losers = runs.filter((run) => run.retried.size > 0).map(() => structuredClone(event));
    expect(await drainLikeTheQueue(losers, { providers })).toEqual([]);

    const arrived = await pushes({ event_id: event.event_id });
    expect(arrived.map((p) => p.token).sort()).toEqual([...tokens].sort());
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 20 });
  });

  it("a redelivery after a crash mid-batch sends only what was not sent", async () => {
    const customIds = Array.from({ length: 12 }, () => uniqueId("emp"));
    const tokens = customIds.map(() => fcmToken());
    for (const [k, customId] of customIds.entries()) await registerDevice({ provider: "fcm", token: tokens[k]!, custom_id: customId });
    const eventId = uniqueId("msg");
    const messages = splitIntoJobs(
      eventId,
      customIds.map((custom_id, i) => queued({ i, custom_id })),
      Date.now(),
    );
    const real = await ownProviders();
    let sends = 0;
    // The invocation dies after six pushes: every later send throws.
    const crashing = {
      ...real,
      fcm: {
        name: "fcm" as const,
        send: async (m: Parameters<typeof real.fcm.send>[0]) => {
          if (++sends > 6) throw new Error("isolate crashed");
          return real.fcm.send(m);
        },
      },
    };
    const first = await runBatch(messages, { providers: crashing, concurrency: 1 });
    expect(first.retried.size).toBe(messages.length);
    expect(await pushes({ event_id: eventId })).toHaveLength(6);

    expect(await drainLikeTheQueue(messages, { providers: real })).toEqual([]);
    const arrived = await pushes({ event_id: eventId });
    expect(arrived.map((p) => p.token).sort()).toEqual([...tokens].sort());
  });
});

describe("provider edge cases end to end", () => {
  it("shortens a body that would not fit in 4 KB and keeps the path whole", async () => {
    const employee = uniqueId("emp");
    const [android, iphone] = [fcmToken(), apnsToken()];
    await registerDevice({ provider: "fcm", token: android, custom_id: employee });
    await registerDevice({ provider: "apns", token: iphone, custom_id: employee });
    const path = `/courses/${"long-path-segment/".repeat(40)}end`;
    const event = job([queued({ custom_id: employee, body: "Ünïcödé 🚒 ".repeat(800), path })]);
    await runBatch([event], { providers: await ownProviders() });
    const arrived = await pushes({ event_id: event.event_id });
    expect(arrived).toHaveLength(2);
    for (const push of arrived) {
      expect(new TextEncoder().encode(JSON.stringify(push.payload)).byteLength).toBeLessThanOrEqual(4096 + 512);
      expect(push.path).toBe(path);
      expect(push.body!.length).toBeLessThan(8000);
      expect(push.body!.endsWith("…")).toBe(true);
    }
  });

  it("fails deliveries with provider_not_configured at once when a provider has no credentials", async () => {
    const employee = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: employee });
    await registerDevice({ provider: "apns", token: apnsToken(), custom_id: employee });
    const event = job([queued({ custom_id: employee })]);
    const bare = { ...env, FCM_SERVICE_ACCOUNT: "", APNS_KEY: "" };
    const run = await runBatch([event], { providers: createProviders(bare) }, 1, bare);
    expect(run.acked).toEqual(run.ids);
    const recorded = await eventDeliveries(event.event_id);
    expect(recorded!.deliveries.map((d) => [d.provider, d.status, d.error]).sort()).toEqual([
      ["apns", "failed", "provider_not_configured"],
      ["fcm", "failed", "provider_not_configured"],
    ]);
    expect(await pushes({ event_id: event.event_id })).toEqual([]);
  });
});
