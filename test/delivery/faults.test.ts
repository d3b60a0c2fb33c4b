/**
 * Fault injection: a 2,000-notification event while the stand-ins answer
 * 429, 500, 503, hang past our timeout, reset the connection, or accept
 * the push and then drop the connection before answering, for a share of
 * the pushes. The ledger must end with every deliverable notification
 * sent once per device, and persistent failures in the dead-letter path,
 * recorded as failed.
 *
 * "Once" has one exception no sender can avoid: a push the provider
 * accepted but whose answer never reached us (the dropped answer, or our
 * own timeout firing on a slow one) looks like a failure and is sent again
 * (at-least-once). Such copies must carry the same collapse id, so the
 * phone shows one notification; every device whose requests were all
 * answered gets exactly one push. The relay's side of each request is
 * watched through the providers' `fetch`.
 *
 * workerd prints "Network connection lost" / "client error (SendRequest)"
 * for each connection the stand-in resets on purpose; those lines are
 * expected, and the test decides.
 */
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { consumeDeadLetters } from "../../src/delivery/dead-letter";
import { collapseKey } from "../../src/push/collapse-key";
import type { PushJob } from "../../src/queue/message";
import { splitIntoJobs } from "../../src/queue/enqueue";
import { type FailRateConfig, failRate, pushes, type RecordedPush, requestsOfEvent, script } from "../support/standins";
import { drainLikeTheQueue, eventDeliveries, ownProviders, queued, type SeedDevice, seedDevices } from "../support/delivery";
import { api, uniqueId } from "../support/webhook";

const hex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

// Fault settings are scoped to this file's token prefixes: other files keep a healthy stand-in.
const FCM_PREFIX = `flt${hex(4)}`;
const APNS_PREFIX = hex(6);

/** The collapse id a push carried: APNs' header, or the Android tag (FCM). */
function collapseIdOf(push: RecordedPush): string | undefined {
  if (push.provider === "apns") return push.headers["apns-collapse-id"];
  const message = (push.payload as { message?: { android?: { notification?: { tag?: string } } } }).message;
  return message?.android?.notification?.tag;
}

/** The device token a provider request is for (APNs: the path; FCM: the body), or null (token endpoint). */
function tokenOf(input: RequestInfo | URL, init?: RequestInit): string | null {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.pathname.startsWith("/3/device/")) return decodeURIComponent(url.pathname.slice("/3/device/".length));
  try {
    return (JSON.parse(String(init?.body)) as { message?: { token?: string } }).message?.token ?? null;
  } catch {
    return null;
  }
}

/**
 * `fetch`, counting per token the requests whose answer the relay never
 * got (a reset, a drop, its timeout). The body is read here, under the
 * request's own signal, so a timeout during the body counts too.
 */
function watchingFetch(unanswered: Map<string, number>): typeof fetch {
  return async (input, init) => {
    const token = tokenOf(input, init);
    try {
      const response = await fetch(input, init);
      const text = await response.text();
      return new Response(text, { status: response.status, headers: response.headers });
    } catch (error) {
      if (token !== null) unanswered.set(token, (unanswered.get(token) ?? 0) + 1);
      throw error;
    }
  };
}

afterAll(async () => {
  await failRate({ rate: 0, token_prefix: FCM_PREFIX });
  await failRate({ rate: 0, token_prefix: APNS_PREFIX });
});

describe("fault injection", () => {
  it("delivers 2,000 notifications through 429s, 5xx, hangs, resets and lost answers, once each but for lost answers; persistent failures end dead-lettered", async () => {
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
    const faults: FailRateConfig = { rate: 0.25, modes: ["429", "500", "503", "hang", "reset", "drop_answer"], hangMs: 400 };
    await failRate({ ...faults, token_prefix: FCM_PREFIX, seed: 1 });
    await failRate({ ...faults, token_prefix: APNS_PREFIX, seed: 2 });

    const eventId = uniqueId("msg");
    const jobs = splitIntoJobs(eventId, devices.map((d, i) => queued({ i, custom_id: d.custom_id })), Date.now());
    // A hang outlasts this timeout: the provider gives up and the delivery is retried.
    const unanswered = new Map<string, number>();
    const providers = await ownProviders({ timeoutMs: 250, fetch: watchingFetch(unanswered) });
    const deadLetters = await drainLikeTheQueue(jobs, { providers });

    const batch = createMessageBatch<PushJob>(
      "learnink-push-dlq",
      deadLetters.map((body, i) => ({ id: `dead-${i}`, timestamp: new Date(), attempts: 13, body })),
    );
    await consumeDeadLetters(batch, env);

    const arrived = await pushes({ event_id: eventId });
    const perToken = new Map<string, RecordedPush[]>();
    for (const push of arrived) perToken.set(push.token, [...(perToken.get(push.token) ?? []), push]);
    const dropped = new Map<string, number>();
    for (const request of await requestsOfEvent(eventId)) {
      if (request.reason === "answer_dropped") dropped.set(request.token, (dropped.get(request.token) ?? 0) + 1);
    }
    const failing = new Set(persistent.map((d) => d.token));
    let resent = 0;
    for (const [index, device] of devices.entries()) {
      const copies = perToken.get(device.token) ?? [];
      if (failing.has(device.token)) {
        expect(copies, device.token).toEqual([]);
        continue;
      }
      const lost = unanswered.get(device.token) ?? 0;
      // Every accepted push whose answer was dropped is a copy; the last one was answered and recorded.
      expect(copies.length, device.token).toBeGreaterThanOrEqual(1 + (dropped.get(device.token) ?? 0));
      // Every copy beyond the first stands for a request whose answer the relay never got...
      expect(copies.length - 1, device.token).toBeLessThanOrEqual(lost);
      // ...and the phone shows them as one.
      expect(new Set(copies.map(collapseIdOf)), device.token).toEqual(new Set([await collapseKey(eventId, index)]));
      if (copies.length > 1) resent++;
    }
    // The lost answers did happen, and were resent; everything else was sent exactly once.
    expect(dropped.size).toBeGreaterThan(20);
    expect(resent).toBeGreaterThanOrEqual(dropped.size);
    expect([...perToken.values()].filter((copies) => copies.length === 1).length).toBeGreaterThan(1_800);

    const recorded = await eventDeliveries(eventId);
    expect(recorded!.summary).toEqual({ sent: 2_000 - persistent.length, failed: persistent.length });
    const failed = await api(`/v1/events/${eventId}?status=failed`);
    const failedRows = ((await failed.json()) as { deliveries: { device_token: string; error: string }[] }).deliveries;
    expect(failedRows.map((d) => d.device_token).sort()).toEqual([...failing].sort());
    expect(new Set(failedRows.map((d) => d.error))).toEqual(new Set(["retries_exhausted"]));
  }, 120_000);
});
