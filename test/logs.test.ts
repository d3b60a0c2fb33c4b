/**
 * Captures every log line of a webhook's whole life (accepted and rejected
 * webhooks, deliveries through the real providers and stand-ins, a refused
 * credential, a dead token, dead letters) and checks that none carries a
 * secret, a credential, a full device token or a phone number.
 */
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { consumeDeadLetters } from "../src/delivery/dead-letter";
import { app } from "../src/http/app";
import type { PushJob } from "../src/queue/message";
import { script } from "./support/standins";
import { ownProviders, registerDevice, runBatch } from "./support/delivery";
import { apnsToken, fcmToken, notification, notificationsSent, OTHER_SECRET, signedRequest, uniqueId } from "./support/webhook";

const PHONE = "+15555550123";

function captureLogs(): string[] {
  const lines: string[] = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    });
  }
  return lines;
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** The middle of a PEM body: any slice of key material that a log could leak. */
const pemCore = (pem: string) => pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "").slice(40, 80);

describe("logs", () => {
  it("carry no secret, credential, full token or phone number", async () => {
    const lines = captureLogs();
    const employee = uniqueId("emp");
    const [android, iphone, deadIphone] = [fcmToken(), apnsToken(), apnsToken()];
    await registerDevice({ provider: "fcm", token: android, custom_id: employee });
    await registerDevice({ provider: "apns", token: iphone, custom_id: employee });
    await registerDevice({ provider: "apns", token: deadIphone, custom_id: employee });
    await script(deadIphone, [{ preset: "apns_unregistered" }]);
    // FCM refuses our access token twice: one refresh, then credentials_rejected with an error line.
    await script(android, [{ preset: "unauthenticated" }, { preset: "unauthenticated" }]);

    const jobs: PushJob[] = [];
    const queue = { sendBatch: async (messages: Iterable<{ body: PushJob }>) => void jobs.push(...[...messages].map((m) => m.body)) } as unknown as Queue;
    const event = notificationsSent([notification({ custom_id: employee, phone_number: PHONE }), notification({ phone_number: PHONE })]);
    expect((await app.fetch(signedRequest(event), { ...env, PUSH_QUEUE: queue })).status).toBe(200);
    expect((await app.fetch(signedRequest(event, { secret: OTHER_SECRET }), { ...env, PUSH_QUEUE: queue })).status).toBe(401);
    const providers = await ownProviders();
    const own = providers.config;
    await runBatch(jobs, { providers });
    const dlq = createMessageBatch<PushJob>("learnink-push-dlq", jobs.map((body, i) => ({ id: `d${i}`, timestamp: new Date(), attempts: 13, body })));
    await consumeDeadLetters(dlq, env);

    const credentials = await env.DB.prepare("SELECT value FROM credentials").all<{ value: string }>();
    const serviceAccount = JSON.parse(own.FCM_SERVICE_ACCOUNT) as { private_key: string };
    const forbidden = [
      PHONE,
      ...env.LEARNINK_WEBHOOK_SECRET.split(" ").flatMap((s) => [s, s.replace("whsec_", "")]),
      ...env.RELAY_API_KEY.split(" "),
      pemCore(serviceAccount.private_key),
      pemCore(own.APNS_KEY),
      ...credentials.results.map((c) => c.value),
      android,
      iphone,
      deadIphone,
    ];
    expect(credentials.results.length).toBeGreaterThan(0);
    const text = lines.join("\n");
    // The capture saw the whole life: accepted, rejected, sent, invalid, refused, dead-lettered.
    for (const marker of ['"webhook_accepted"', '"webhook_rejected"', '"status":"sent"', '"status":"invalid_token"', '"credentials"', '"dead_letter"']) {
      expect(text).toContain(marker);
    }
    for (const secret of forbidden) expect(text).not.toContain(secret);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });
});
