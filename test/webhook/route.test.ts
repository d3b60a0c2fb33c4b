import { afterEach, describe, expect, it, vi } from "vitest";
import { captureLogs } from "../support/logs";
import { MAX_WEBHOOK_BYTES } from "../../src/webhook/route";
import {
  type AcceptedJson,
  capturingQueue,
  errorOf,
  fetchWith,
  notification,
  notificationsSent,
  OTHER_SECRET,
  postWebhook,
  RELAY,
  signedRequest,
  svixHeaders,
  svixHeadersForBytes,
  TEST_SECRET,
} from "../support/webhook";

afterEach(() => {
  vi.useRealTimers();
});

describe("POST /webhooks/learnink: signature", () => {
  it("accepts a valid signature and answers with what it queued", async () => {
    const capture = capturingQueue();
    const event = notificationsSent([notification(), notification()]);
    const request = signedRequest(event, { id: "msg_valid_1" });
    const response = await fetchWith(request, { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      received: true,
      event_id: "msg_valid_1",
      type: "notifications.sent",
      notifications: 2,
      queued: 2,
      rejected: 0,
      messages: 1,
      rejections: [],
    });
    const [job] = capture.jobs();
    expect(job).toMatchObject({ v: 1, event_id: "msg_valid_1" });
    expect(job!.notifications.map((n) => n.i)).toEqual([0, 1]);
  });

  it("accepts the event through the real queue binding", async () => {
    const response = await postWebhook(notificationsSent([notification()]));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true, notifications: 1, messages: 1 });
  });

  it("accepts a signature made with the second of two configured secrets (rotation)", async () => {
    const capture = capturingQueue();
    const request = signedRequest(notificationsSent([notification()]), { secret: TEST_SECRET });
    const response = await fetchWith(request, {
      PUSH_QUEUE: capture.queue,
      LEARNINK_WEBHOOK_SECRET: `${OTHER_SECRET} ${TEST_SECRET}`,
    });
    expect(response.status).toBe(200);
    expect(capture.jobs()).toHaveLength(1);
  });

  it("rejects a signature made with a secret the relay does not have", async () => {
    const response = await postWebhook(notificationsSent([notification()]), { secret: OTHER_SECRET });
    expect(response.status).toBe(401);
    expect((await errorOf(response)).code).toBe("invalid_signature");
  });

  it("rejects a body changed after signing", async () => {
    const body = JSON.stringify(notificationsSent([notification({ title: "Original" })]));
    const headers = svixHeaders(body);
    const tampered = body.replace("Original", "Tampered");
    const response = await fetchWith(new Request(`${RELAY}/webhooks/learnink`, { method: "POST", headers, body: tampered }), {});
    expect(response.status).toBe(401);
    expect((await errorOf(response)).code).toBe("invalid_signature");
  });

  it.each(["svix-id", "svix-timestamp", "svix-signature"])("rejects a request without %s", async (header) => {
    const request = signedRequest(notificationsSent([notification()]));
    request.headers.delete(header);
    const response = await fetchWith(request, {});
    expect(response.status).toBe(401);
    const error = await errorOf(response);
    expect(error.code).toBe("invalid_signature");
    expect(error.message).toContain(header);
  });

  it.each([
    ["stale", -301],
    ["future", +301],
  ])("rejects a %s timestamp beyond 5 minutes", async (_label, offset) => {
    const timestamp = Math.floor(Date.now() / 1000) + offset;
    const response = await postWebhook(notificationsSent([notification()]), { timestamp });
    expect(response.status).toBe(401);
    expect((await errorOf(response)).code).toBe("invalid_signature");
  });

  it("accepts a timestamp inside the tolerance", async () => {
    const capture = capturingQueue();
    const timestamp = Math.floor(Date.now() / 1000) - 280;
    const response = await fetchWith(signedRequest(notificationsSent([notification()]), { timestamp }), {
      PUSH_QUEUE: capture.queue,
    });
    expect(response.status).toBe(200);
  });

  it("verifies Svix's published test vector (frozen clock)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1614265330 * 1000);
    const request = new Request(`${RELAY}/webhooks/learnink`, {
      method: "POST",
      headers: {
        "svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "svix-timestamp": "1614265330",
        "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      },
      body: '{"test": 2432232314}',
    });
    const response = await fetchWith(request, { LEARNINK_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" });
    // The signature holds; the body is not a LearnInk event, so it is a 400, not a 401.
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe("invalid_event");
  });

  it("answers 500 not_configured when no secret is set, naming the setting only in the log", async () => {
    const logs = captureLogs();
    const response = await fetchWith(signedRequest(notificationsSent([notification()])), { LEARNINK_WEBHOOK_SECRET: "" });
    logs.stop();
    expect(response.status).toBe(500);
    const error = await errorOf(response);
    expect(error.code).toBe("not_configured");
    expect(error.message).not.toContain("LEARNINK_WEBHOOK_SECRET");
    expect(logs.lines().find((l) => l.event === "not_configured")?.setting).toContain("LEARNINK_WEBHOOK_SECRET");
  });
});

describe("POST /webhooks/learnink: payload", () => {
  it("answers 400 invalid_json for a signed body that is not JSON", async () => {
    const response = await postWebhook("{not json");
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe("invalid_json");
  });

  it("answers 400 invalid_json for a signed body that is not UTF-8, signed over exactly its bytes", async () => {
    const capture = capturingQueue();
    // {"title":"<0xff 0xfe>","x":"<0xc3 0x28>"}: a stray byte and a broken two-byte sequence.
    const bytes = new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    const request = new Request(`${RELAY}/webhooks/learnink`, { method: "POST", headers: await svixHeadersForBytes(bytes), body: bytes });
    const response = await fetchWith(request, { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe("invalid_json");
    expect(capture.batches).toHaveLength(0);
  });

  it("signs raw bytes the way Svix does (the same signer's valid UTF-8 event is accepted)", async () => {
    const capture = capturingQueue();
    const bytes = new TextEncoder().encode(JSON.stringify(notificationsSent([notification({ title: "Ünïcödé ✓ 学" })])));
    const request = new Request(`${RELAY}/webhooks/learnink`, { method: "POST", headers: await svixHeadersForBytes(bytes), body: bytes });
    const response = await fetchWith(request, { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(200);
    expect(capture.notifications().map((n) => n.title)).toEqual(["Ünïcödé ✓ 学"]);
  });

  it.each([
    ["title", 42, "data.notifications[0].title", "invalid_type"],
    ["title", null, "data.notifications[0].title", "required"],
    ["body", null, "data.notifications[0].body", "required"],
    ["path", "courses/1", "data.notifications[0].path", "invalid_path"],
    ["user_id", "", "data.notifications[0].user_id", "required"],
    ["user_id", 1.5, "data.notifications[0].user_id", "invalid_type"],
    ["custom_id", ["emp-1"], "data.notifications[0].custom_id", "invalid_type"],
  ])("answers 400 invalid_event when the only notification's %s is %j (nothing queued)", async (field, value, path, rejection) => {
    const capture = capturingQueue();
    const event = notificationsSent([{ ...notification(), [field]: value }]);
    const response = await fetchWith(signedRequest(event), { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: "invalid_event", field: path });
    expect(capture.batches).toHaveLength(0);
    // The same notification beside a valid one is a rejection with this code instead.
    const mixed = await fetchWith(signedRequest(notificationsSent([notification(), { ...notification(), [field]: value }])), {
      PUSH_QUEUE: capture.queue,
    });
    expect(mixed.status).toBe(200);
    expect(((await mixed.json()) as AcceptedJson).rejections).toEqual([{ index: 1, field, code: rejection, message: expect.any(String) }]);
  });

  it.each([
    ["a non-object event", [1, 2]],
    ["a missing type", { data: {} }],
    ["data.notifications that is not an array", { type: "notifications.sent", data: { notifications: {} } }],
  ])("answers 400 invalid_event for %s", async (_label, body) => {
    const response = await postWebhook(body);
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe("invalid_event");
  });

  it("acknowledges an empty notification list without queueing anything", async () => {
    const capture = capturingQueue();
    const response = await fetchWith(signedRequest(notificationsSent([])), { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true, notifications: 0, queued: 0, rejected: 0, messages: 0 });
    expect(capture.batches).toHaveLength(0);
  });

  it("acknowledges other event types with 200 and does not queue them", async () => {
    const capture = capturingQueue();
    const event = { api_version: "2022-11-15", object: "event", type: "user.course.started", data: { user_id: "u1" } };
    const response = await fetchWith(signedRequest(event), { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true, type: "user.course.started", ignored: true });
    expect(capture.batches).toHaveLength(0);
  });

  it("answers 413 for a body over the limit, before any signature work", async () => {
    const body = "x".repeat(MAX_WEBHOOK_BYTES + 1);
    // Unsigned on purpose: the size check comes first.
    const response = await fetchWith(new Request(`${RELAY}/webhooks/learnink`, { method: "POST", body }), {});
    expect(response.status).toBe(413);
    expect((await errorOf(response)).code).toBe("payload_too_large");
  });

  it("answers 503 when the queue refuses the event, so Svix retries", async () => {
    const failing = {
      send: () => Promise.reject(new Error("queue down")),
      sendBatch: () => Promise.reject(new Error("queue down")),
    } as unknown as Queue;
    const response = await fetchWith(signedRequest(notificationsSent([notification()])), { PUSH_QUEUE: failing });
    expect(response.status).toBe(503);
    expect((await errorOf(response)).code).toBe("queue_unavailable");
  });
});

describe("POST /webhooks/learnink: splitting a large event", () => {
  it("splits 10,000 notifications into messages under 128 KB that carry each exactly once, without phone numbers", async () => {
    const capture = capturingQueue();
    const notifications = Array.from({ length: 10_000 }, (_, i) =>
      notification({
        user_id: `user-${i}`,
        custom_id: i % 3 === 0 ? null : `employee-${i}`,
        title: `Reminder ${i}: finish your course ✅`,
        body: "Ünïcödé body that is a little longer than usual to make the split interesting. ".repeat(3),
      }),
    );
    const response = await fetchWith(signedRequest(notificationsSent(notifications), { id: "msg_big" }), {
      PUSH_QUEUE: capture.queue,
    });
    expect(response.status).toBe(200);

    const encoder = new TextEncoder();
    for (const batch of capture.batches) {
      expect(batch.length).toBeLessThanOrEqual(100);
      const batchBytes = batch.reduce((sum, m) => sum + encoder.encode(JSON.stringify(m.body)).byteLength, 0);
      expect(batchBytes).toBeLessThanOrEqual(256_000);
    }
    const jobs = capture.jobs();
    for (const job of jobs) {
      const text = JSON.stringify(job);
      expect(encoder.encode(text).byteLength).toBeLessThan(128_000 - 100);
      expect(text).not.toContain("phone");
      expect(text).not.toContain("+15555550100");
      expect(job.event_id).toBe("msg_big");
    }
    const indexes = jobs.flatMap((job) => job.notifications.map((n) => n.i)).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    const first = jobs[0]!.notifications[0]!;
    expect(first).toEqual({
      i: 0,
      title: notifications[0]!.title,
      body: notifications[0]!.body,
      path: notifications[0]!.path,
      user_id: "user-0",
      custom_id: null,
    });
    expect(await response.json()).toMatchObject({ notifications: 10_000, messages: jobs.length });
  });
});
