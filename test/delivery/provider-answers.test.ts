/**
 * What each provider answer does to the ledger and the devices, through the
 * real providers and the stand-ins: dead tokens are pruned, answers that
 * mean a wrong setting delete nothing, Retry-After is honoured, a sandbox
 * token sent to production is corrected.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Provider } from "../../src/push/providers";
import type { RecordJob } from "../../src/queue/message";
import { requests, script, type ScriptedResponse } from "../support/standins";
import { eventDeliveries, fakeProviders, job, ownProviders, queued, registerDevice, runBatch } from "../support/delivery";
import { api, apnsToken, fcmToken, uniqueId } from "../support/webhook";

async function devicesOf(customId: string) {
  const response = await api(`/v1/users/${customId}/devices`);
  return ((await response.json()) as { devices: { token: string; environment: string }[] }).devices;
}

/** One device answering `responses`, one notification for it, one consumer run. */
async function deliverOnce(provider: Provider, responses: ScriptedResponse[]) {
  const customId = uniqueId("emp");
  const token = provider === "fcm" ? fcmToken() : apnsToken();
  await registerDevice({ provider, token, custom_id: customId });
  await script(token, responses);
  const event = job([queued({ custom_id: customId })]);
  const run = await runBatch([event], { providers: await ownProviders() });
  const delivery = (await eventDeliveries(event.event_id))!.deliveries[0]!;
  return { customId, token, run, delivery };
}

describe("provider answers end to end", () => {
  it.each([
    ["fcm", "unregistered", "UNREGISTERED"],
    ["fcm", "invalid_token_argument", "INVALID_ARGUMENT"],
    ["apns", "apns_unregistered", "Unregistered"],
  ] as const)("%s %s: records invalid_token and removes the device", async (provider, preset, reason) => {
    const { customId, run, delivery } = await deliverOnce(provider, [{ preset } as ScriptedResponse]);
    expect(run.acked).toEqual(run.ids);
    expect(delivery).toMatchObject({ status: "invalid_token", error: reason });
    expect(await devicesOf(customId)).toEqual([]);
  });

  it.each([
    ["fcm", "sender_id_mismatch", "SENDER_ID_MISMATCH"],
    ["fcm", "third_party_auth_error", "THIRD_PARTY_AUTH_ERROR"],
    ["apns", "apns_device_token_not_for_topic", "DeviceTokenNotForTopic"],
  ] as const)("%s %s: a wrong setting keeps the device and the delivery waits for a fix", async (provider, preset, reason) => {
    const { customId, run, delivery } = await deliverOnce(provider, [{ preset } as ScriptedResponse]);
    expect(run.retried.get(run.ids[0]!)).toBeGreaterThan(0);
    expect(delivery).toMatchObject({ status: "retrying", error: `provider_misconfigured:${reason}` });
    expect(await devicesOf(customId)).toHaveLength(1);
  });

  it("APNs BadDeviceToken on both hosts: removes the device after trying the other environment once", async () => {
    const { customId, token, delivery } = await deliverOnce("apns", [{ preset: "apns_bad_device_token" }, { preset: "apns_bad_device_token" }]);
    expect(delivery).toMatchObject({ status: "invalid_token", error: "BadDeviceToken" });
    expect((await requests(token)).map((r) => r.status)).toEqual([400, 400]);
    expect(await devicesOf(customId)).toEqual([]);
  });

  it("APNs BadDeviceToken, then accepted on the other host: sent, and the device moves to sandbox", async () => {
    const { customId, delivery } = await deliverOnce("apns", [{ preset: "apns_bad_device_token" }]);
    expect(delivery.status).toBe("sent");
    expect((await devicesOf(customId))[0]!.environment).toBe("sandbox");
  });

  it.each([
    ["fcm", "quota_exceeded", "QUOTA_EXCEEDED"],
    ["apns", "apns_too_many_requests", "TooManyRequests"],
    ["fcm", "unavailable", "UNAVAILABLE"],
    ["apns", "apns_service_unavailable", "ServiceUnavailable"],
  ] as const)("%s %s with Retry-After: 42: the message comes back in 42 s, the device stays", async (provider, preset, reason) => {
    const { customId, run, delivery } = await deliverOnce(provider, [{ preset, retryAfter: 42 } as ScriptedResponse]);
    expect(run.retried.get(run.ids[0]!)).toBe(42);
    expect(delivery).toMatchObject({ status: "retrying", error: reason });
    expect(await devicesOf(customId)).toHaveLength(1);
  });
});

describe("a dead answer never removes a token registered again after the push went out", () => {
  it("APNs 410 whose timestamp is older than the registration: the device stays; a newer one removes it", async () => {
    const customId = uniqueId("emp");
    const token = apnsToken();
    const before = Date.now() - 60_000;
    await registerDevice({ provider: "apns", token, custom_id: customId });
    await script(token, [{ status: 410, body: { reason: "Unregistered", timestamp: before } }]);
    const providers = await ownProviders();
    const first = job([queued({ custom_id: customId })]);
    await runBatch([first], { providers });
    expect((await eventDeliveries(first.event_id))!.deliveries[0]).toMatchObject({ status: "invalid_token", error: "Unregistered" });
    expect(await devicesOf(customId)).toHaveLength(1);

    await script(token, [{ status: 410, body: { reason: "Unregistered", timestamp: Date.now() + 1_000 } }]);
    await runBatch([job([queued({ custom_id: customId })])], { providers });
    expect(await devicesOf(customId)).toEqual([]);
  });

  it("a token registered again while its push was in flight outlives the push's dead answer", async () => {
    const customId = uniqueId("emp");
    const token = fcmToken();
    await registerDevice({ provider: "fcm", token, custom_id: customId });
    // The app reinstalls and registers the same token while FCM is still answering the old registration's push.
    const providers = fakeProviders(async () => {
      await registerDevice({ provider: "fcm", token, custom_id: customId });
      return { kind: "invalid_token", reason: "UNREGISTERED" };
    });
    const event = job([queued({ custom_id: customId })]);
    await runBatch([event], { providers });
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "invalid_token" });
    expect(await devicesOf(customId)).toHaveLength(1);
  });

  it("outcomes written later (a RecordJob) prune only registrations older than the push", async () => {
    const [kept, gone] = [fcmToken(), fcmToken()];
    for (const token of [kept, gone]) await registerDevice({ provider: "fcm", token, custom_id: uniqueId("emp") });
    // The push went out a second from now; `kept` is registered again a minute after it, before its answer is written.
    const sentAt = Date.now() + 1_000;
    await env.DB.prepare("UPDATE devices SET updated_at = ?2 WHERE token = ?1").bind(kept, sentAt + 60_000).run();
    const late: RecordJob = {
      v: 1,
      kind: "record",
      outcomes: [],
      options: {
        claimId: "late-claim",
        now: Date.now(),
        tokenAnswers: [{ provider: "fcm", app: "default", answered: 2, dead: 2 }],
        deadTokens: [kept, gone].map((token) => ({ token, provider: "fcm", app: "default", reason: "UNREGISTERED", sentAt })),
        misconfigured: [],
        accepted: [],
        environmentFixes: [],
        orphans: [],
      },
    };
    const run = await runBatch([late], { providers: fakeProviders() });
    expect(run.acked).toEqual(run.ids);
    const left = await env.DB.prepare("SELECT token FROM devices WHERE token IN (?1, ?2)").bind(kept, gone).all<{ token: string }>();
    expect(left.results.map((r) => r.token)).toEqual([kept]);
  });
});
