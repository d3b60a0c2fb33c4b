/**
 * Messages queued by the previous release, read by this one: a deploy in
 * the middle of a fan-out, or with retries and record messages waiting,
 * delivers what was in flight once. The bodies are literal JSON as the
 * previous release wrote them (no `attempts_before`, no `sent_at`, no
 * `detail`, dead tokens without `sentAt`).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { QueueMessage } from "../../src/queue/message";
import { eventDeliveries, fakeProviders, registerDevice, runBatch } from "../support/delivery";
import { fcmToken, uniqueId } from "../support/webhook";

describe("messages of the previous release", () => {
  it("a push message, and its duplicate, deliver once", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const eventId = uniqueId("msg");
    const body = JSON.parse(
      `{"v":1,"event_id":"${eventId}","received_at":${Date.now()},"notifications":[{"i":0,"title":"Time for your training","body":"Safety 101 is waiting","path":"/courses/safety-101","user_id":"li-1","custom_id":"${customId}"}]}`,
    ) as QueueMessage;
    const providers = fakeProviders();
    const run = await runBatch([body, structuredClone(body)], { providers });
    expect(run.acked).toEqual(run.ids);
    expect(providers.fcm.sent).toHaveLength(1);
    expect((await eventDeliveries(eventId))!.summary).toEqual({ sent: 1 });
  });

  it("a record message whose dead tokens carry no time prunes as it did", async () => {
    const token = fcmToken();
    await registerDevice({ provider: "fcm", token, custom_id: uniqueId("emp") });
    const body = JSON.parse(
      `{"v":1,"kind":"record","outcomes":[],"options":{"claimId":"old-claim","now":${Date.now() + 1_000},` +
        `"tokenAnswers":[{"provider":"fcm","app":"default","answered":1,"dead":1}],` +
        `"deadTokens":[{"token":"${token}","provider":"fcm","app":"default","reason":"UNREGISTERED"}],` +
        `"misconfigured":[],"accepted":[],"environmentFixes":[],"orphans":[],"released":[]}}`,
    ) as QueueMessage;
    const run = await runBatch([body], { providers: fakeProviders() });
    expect(run.acked).toEqual(run.ids);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM devices WHERE token = ?1").bind(token).first<number>("n");
    expect(left).toBe(0);
  });
});
