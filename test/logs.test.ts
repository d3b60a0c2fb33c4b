/**
 * Captures every log line of a webhook's whole life (accepted and rejected
 * webhooks, deliveries through the real providers and stand-ins, a refused
 * credential, a dead token, dead letters) and of the device API's access
 * (register keys, device tokens minted and refused, a rate limit), and checks
 * that none carries a secret, a key, a device token (JWT), a full push token
 * or a phone number.
 */
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { consumeDeadLetters } from "../src/delivery/dead-letter";
import { app } from "../src/app";
import type { PushJob } from "../src/queue/message";
import { script } from "./support/standins";
import { ownProviders, registerDevice, runBatch } from "./support/delivery";
import { REGISTER_KEY, deviceToken } from "./support/device-tokens";
import { apnsToken, fcmToken, notification, notificationsSent, OTHER_SECRET, RELAY, signedRequest, uniqueId } from "./support/webhook";

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

/** A device API call into the Worker with `credential` as the bearer, from `address`. */
async function call(path: string, credential: string, init: { method?: string; json?: unknown; address?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${credential}`, "content-type": "application/json" };
  if (init.address) headers["cf-connecting-ip"] = init.address;
  const body = init.json === undefined ? undefined : JSON.stringify(init.json);
  return app.fetch(new Request(`${RELAY}${path}`, { method: init.method ?? "GET", headers, body }), env);
}

/**
 * The device API as an app and a backend use it, and misuse it: returns
 * every credential presented, which no log line may carry.
 */
async function exerciseAccess(employee: string): Promise<string[]> {
  const minted = await call("/v1/device-tokens", REGISTER_KEY, { method: "POST", json: { custom_id: employee } });
  expect(minted.status).toBe(200);
  const { token: mintedToken } = (await minted.json()) as { token: string };
  const ownToken = await deviceToken({ sub: employee });
  const phone = fcmToken();
  expect((await call("/v1/devices", mintedToken, { method: "PUT", json: { provider: "fcm", token: phone } })).status).toBe(201);
  expect((await call(`/v1/devices/${encodeURIComponent(phone)}`, ownToken, { method: "DELETE" })).status).toBe(204);
  expect((await call("/v1/devices", REGISTER_KEY, { method: "PUT", json: { custom_id: employee, provider: "fcm", token: fcmToken() } })).status).toBe(201);
  expect((await call(`/v1/users/${employee}/devices`, ownToken)).status).toBe(403);

  const expired = await deviceToken({ sub: employee }, { expIn: -3600 });
  const foreign = await deviceToken({ sub: employee }, { secret: "a-secret-the-relay-does-not-know-0123456789" });
  const wrongKey = `${REGISTER_KEY}-but-not-quite`;
  const address = `10.${[...crypto.getRandomValues(new Uint8Array(3))].join(".")}`;
  // Failures from one address until the failed-authentication limit answers 429 (and logs it).
  let status = 0;
  for (let i = 0; i < 20 && status !== 429; i++) {
    status = (await call("/v1/devices", [expired, foreign, wrongKey][i % 3]!, { method: "PUT", json: { provider: "fcm", token: phone }, address })).status;
  }
  expect(status).toBe(429);
  return [mintedToken, ownToken, expired, foreign, wrongKey].flatMap((t) => [t, t.split(".").at(-1)!]);
}

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
    const presented = await exerciseAccess(employee);
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
      ...env.RELAY_REGISTER_KEY.split(" "),
      ...env.DEVICE_TOKEN_SECRET.split(" "),
      ...presented,
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
    for (const marker of ['"webhook_accepted"', '"webhook_rejected"', '"sent":', '"status":"invalid_token"', '"credentials"', '"dead_letter"', '"rate_limited"']) {
      expect(text).toContain(marker);
    }
    for (const secret of forbidden) expect(text).not.toContain(secret);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });
});
