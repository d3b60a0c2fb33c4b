/**
 * Fault injection: a 2,000-notification event while the stand-ins answer
 * 429, 500, 503, hang past our timeout or reset the connection for a share
 * of the pushes. The ledger must end with every deliverable notification
 * sent exactly once per device, and persistent failures in the dead-letter
 * path, recorded as failed.
 *
 * workerd prints "Network connection lost" / "client error (SendRequest)"
 * for each connection the stand-in resets on purpose; those lines are
 * expected, and the test decides.
 */
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { consumeDeadLetters } from "../../src/delivery/dead-letter";
import type { PushJob } from "../../src/queue/message";
import { splitIntoJobs } from "../../src/queue/enqueue";
import { failRate, pushes, script } from "../support/standins";
import { drainLikeTheQueue, eventDeliveries, ownProviders, queued, type SeedDevice, seedDevices } from "../support/delivery";
import { api, uniqueId } from "../support/webhook";

const hex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

// Fault settings are scoped to this file's token prefixes: other files keep a healthy stand-in.
const FCM_PREFIX = `flt${hex(4)}`;
const APNS_PREFIX = hex(6);

afterAll(async () => {
  await failRate({ rate: 0, token_prefix: FCM_PREFIX });
  await failRate({ rate: 0, token_prefix: APNS_PREFIX });
});

describe("fault injection", () => {
  it("delivers 2,000 notifications exactly once through 429s, 5xx, hangs and resets; persistent failures end dead-lettered", async () => {
    const run = uniqueId("run");
    const devices: SeedDevice[] = Array.from({ length: 2_000 }, (_, i) => ({
      token: i % 2 === 0 ? `${FCM_PREFIX}:${i.toString().padStart(6, "0")}${"f".repeat(120)}` : `${APNS_PREFIX}${i.toString(16).padStart(58, "0")}`,
      provider: i % 2 === 0 ? "fcm" : "apns",
      custom_id: `${run}-${i}`,
      user_id: null,
    }));
    await seedDevices(devices);

    // 16 devices fail every time: they must end in the dead-letter path, not be retried forever.
    const persistent = devices.filter((_, i) => i % 125 === 7);
    for (const device of persistent) {
      await script(device.token, Array.from({ length: 30 }, () => ({ preset: device.provider === "fcm" ? "unavailable" : "apns_service_unavailable" })));
    }
    const faults = { rate: 0.25, modes: ["429", "500", "503", "hang", "reset"] as ("429" | "500" | "503" | "hang" | "reset")[], hangMs: 400 };
    await failRate({ ...faults, token_prefix: FCM_PREFIX, seed: 1 });
    await failRate({ ...faults, token_prefix: APNS_PREFIX, seed: 2 });

    const eventId = uniqueId("msg");
    const jobs = splitIntoJobs(eventId, devices.map((d, i) => queued({ i, custom_id: d.custom_id })), Date.now());
    // A hang outlasts this timeout: the provider gives up and the delivery is retried.
    const providers = await ownProviders({ timeoutMs: 250 });
    const deadLetters = await drainLikeTheQueue(jobs, { providers });

    const batch = createMessageBatch<PushJob>(
      "learnink-push-dlq",
      deadLetters.map((body, i) => ({ id: `dead-${i}`, timestamp: new Date(), attempts: 13, body })),
    );
    await consumeDeadLetters(batch, env);

    const arrived = await pushes({ event_id: eventId });
    const perToken = new Map<string, number>();
    for (const push of arrived) perToken.set(push.token, (perToken.get(push.token) ?? 0) + 1);
    const failing = new Set(persistent.map((d) => d.token));
    for (const device of devices) {
      expect(perToken.get(device.token) ?? 0, device.token).toBe(failing.has(device.token) ? 0 : 1);
    }

    const recorded = await eventDeliveries(eventId);
    expect(recorded!.summary).toEqual({ sent: 2_000 - persistent.length, failed: persistent.length });
    const failed = await api(`/v1/events/${eventId}?status=failed`);
    const failedRows = ((await failed.json()) as { deliveries: { device_token: string; error: string }[] }).deliveries;
    expect(failedRows.map((d) => d.device_token).sort()).toEqual([...failing].sort());
    expect(new Set(failedRows.map((d) => d.error))).toEqual(new Set(["retries_exhausted"]));
  }, 120_000);
});
