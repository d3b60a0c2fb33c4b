/**
 * The Expo stand-in refuses what Expo refuses (shape, token format, more
 * than 100 notifications or 1,000 receipt ids, a missing or unknown access
 * token where one is needed), answers a ticket per message in order, and
 * keeps receipts; scripts answer one message's ticket or receipt, or the
 * whole request.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expoToken, uniqueId } from "../support/ids";
import { failRate, freshExpoAccessToken, pushes, requests, script, standins, stats } from "../support/standins";

type Ticket = { status: "ok"; id: string } | { status: "error"; message: string; details: { error: string } };

function message(to: string | string[], overrides: Record<string, unknown> = {}) {
  return {
    to,
    title: "Time for your training",
    body: "Safety 101 is waiting",
    data: { path: "/courses/safety-101", url: "https://m.learn.ink/acme/courses/safety-101?webview=true", event_id: uniqueId("msg") },
    sound: "default",
    ttl: 86_400,
    priority: "high",
    ...overrides,
  };
}

function send(body: unknown, accessToken?: string): Promise<Response> {
  return fetch(`${env.STANDIN_URL}/--/api/v2/push/send`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` }) },
    body: JSON.stringify(body),
  });
}

function getReceipts(ids: unknown, accessToken?: string): Promise<Response> {
  return fetch(`${env.STANDIN_URL}/--/api/v2/push/getReceipts`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` }) },
    body: JSON.stringify({ ids }),
  });
}

async function requestError(response: Response): Promise<[number, string]> {
  const body = (await response.json()) as { errors: { code: string }[] };
  return [response.status, body.errors[0]!.code];
}

describe("Expo stand-in: push/send", () => {
  it("answers one ticket per message in order, records each push, and counts the request for its access token", async () => {
    const { accessToken } = await freshExpoAccessToken();
    const tokens = [expoToken(), expoToken(), `ExpoPushToken[${uniqueId("new")}]`];
    const response = await send(tokens.map((t) => message(t)), accessToken);
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: Ticket[] };
    expect(data).toEqual(tokens.map(() => ({ status: "ok", id: expect.stringMatching(/^[0-9a-f-]{36}$/) })));
    const recorded = await Promise.all(tokens.map(async (token) => (await pushes({ token, provider: "expo" }))[0]));
    expect(recorded.map((p) => p?.provider_id)).toEqual(data.map((t) => (t as { id: string }).id));
    expect(new Set(recorded.map((p) => p?.request_id)).size).toBe(1);
    expect(recorded[0]).toMatchObject({ title: "Time for your training", path: "/courses/safety-101", url: expect.stringContaining("m.learn.ink") });
    expect(recorded[0]!.headers.authorization).toBeUndefined();
    expect(await stats({ access_token: accessToken })).toMatchObject({ expo_pushes: 3, expo_requests: 1 });
  });

  it("answers a single message with a single ticket, and works without an access token", async () => {
    const token = expoToken();
    const response = await send(message(token));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: Ticket }).data).toEqual({ status: "ok", id: expect.any(String) });
  });

  it("refuses more than 100 notifications, counting every recipient of a message", async () => {
    const many = Array.from({ length: 60 }, () => expoToken());
    expect(await requestError(await send([message(many), message(many.slice(0, 41))]))).toEqual([400, "PUSH_TOO_MANY_NOTIFICATIONS"]);
    expect((await send([message(many), message(many.slice(0, 40))])).status).toBe(200);
  });

  it("refuses malformed tokens, unknown fields and wrong types", async () => {
    const token = expoToken();
    const bad = [
      [message("fcm-token-not-expo")],
      [message("ExponentPushToken[]")],
      [message(token, { titel: "typo" })],
      [message(token, { data: "not an object" })],
      [message(token, { ttl: "3600" })],
      [message(token, { priority: "urgent" })],
      [message(token, { sound: "ping.wav" })],
      [{ title: "no recipient" }],
      [],
    ];
    for (const body of bad) expect(await requestError(await send(body)), JSON.stringify(body)).toEqual([400, "VALIDATION_ERROR"]);
    expect(await pushes({ token })).toEqual([]);
  });

  it("answers UNAUTHORIZED for an unknown access token, and for none when the project requires one", async () => {
    const { accessToken } = await freshExpoAccessToken();
    const prefix = `ExponentPushToken[secured-${uniqueId("p")}`;
    const token = `${prefix}-1]`;
    expect(await requestError(await send([message(token)], "not-a-real-token"))).toEqual([401, "UNAUTHORIZED"]);
    await standins.expoSecurity({ token_prefix: prefix, required: true });
    expect(await requestError(await send([message(token)]))).toEqual([401, "UNAUTHORIZED"]);
    expect((await send([message(token)], accessToken)).status).toBe(200);
    await standins.expoSecurity({ token_prefix: prefix, required: false });
    expect((await send([message(token)])).status).toBe(200);
    expect((await requests(token)).map((r) => [r.status, r.reason])).toEqual([
      [401, "UNAUTHORIZED"],
      [401, "UNAUTHORIZED"],
      [200, null],
      [200, null],
    ]);
  });

  it("puts scripted ticket errors on their own message and leaves the others ok", async () => {
    const [dead, throttled, fine] = [expoToken(), expoToken(), expoToken()];
    await script(dead, [{ preset: "expo_device_not_registered" }]);
    await script(throttled, [{ preset: "expo_message_rate_exceeded" }]);
    const response = await send([message(dead), message(throttled), message(fine)]);
    const { data } = (await response.json()) as { data: Ticket[] };
    expect(data.map((t) => (t.status === "ok" ? "ok" : t.details.error))).toEqual(["DeviceNotRegistered", "MessageRateExceeded", "ok"]);
    expect(data[0]).toMatchObject({ message: expect.stringContaining(dead) });
    expect(await pushes({ token: dead })).toEqual([]);
    expect(await pushes({ token: fine })).toHaveLength(1);
  });

  it("answers the whole request when one message's script says so, and keeps the other scripts", async () => {
    const [throttles, dead] = [expoToken(), expoToken()];
    await script(throttles, [{ preset: "expo_too_many_requests", retryAfter: 5 }]);
    await script(dead, [{ preset: "expo_device_not_registered" }]);
    const refused = await send([message(dead), message(throttles)]);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(await requestError(refused)).toEqual([429, "TOO_MANY_REQUESTS"]);
    const again = (await (await send([message(dead), message(throttles)])).json()) as { data: Ticket[] };
    expect(again.data.map((t) => t.status)).toEqual(["error", "ok"]);
  });

  it("fails requests under a faulty token prefix", async () => {
    const prefix = `ExponentPushToken[faulty-${uniqueId("p")}`;
    await failRate({ rate: 1, modes: ["503"], token_prefix: prefix });
    expect(await requestError(await send([message(expoToken()), message(`${prefix}-1]`)]))).toEqual([503, "SERVICE_UNAVAILABLE"]);
    await failRate({ rate: 0, token_prefix: prefix });
  });
});

describe("Expo stand-in: push/getReceipts", () => {
  it("answers the receipts it has, scripted errors and payloads over 4 KiB included, and leaves out unknown ids", async () => {
    const { accessToken } = await freshExpoAccessToken();
    const [fine, gone, big] = [expoToken(), expoToken(), expoToken()];
    await script(gone, [{ preset: "expo_receipt_device_not_registered" }]);
    const response = await send([message(fine), message(gone), message(big, { body: "x".repeat(4_100) })], accessToken);
    const tickets = ((await response.json()) as { data: { status: "ok"; id: string }[] }).data;
    expect(tickets.map((t) => t.status)).toEqual(["ok", "ok", "ok"]);
    const ids = tickets.map((t) => t.id);
    const answer = await getReceipts([...ids, crypto.randomUUID()], accessToken);
    expect(answer.status).toBe(200);
    const { data } = (await answer.json()) as { data: Record<string, { status: string; details?: { error: string } }> };
    expect(Object.keys(data).sort()).toEqual([...ids].sort());
    expect(data[ids[0]!]).toEqual({ status: "ok" });
    expect(data[ids[1]!]).toMatchObject({ status: "error", details: { error: "DeviceNotRegistered" } });
    expect(data[ids[2]!]).toMatchObject({ status: "error", details: { error: "MessageTooBig" } });
    expect(await stats({ access_token: accessToken })).toMatchObject({ expo_receipt_requests: 1 });
  });

  it("refuses more than 1,000 ids and a body without ids", async () => {
    const ids = Array.from({ length: 1001 }, () => crypto.randomUUID());
    expect(await requestError(await getReceipts(ids))).toEqual([400, "PUSH_TOO_MANY_RECEIPTS"]);
    expect((await getReceipts(ids.slice(0, 1000))).status).toBe(200);
    expect(await requestError(await getReceipts("not a list"))).toEqual([400, "VALIDATION_ERROR"]);
  });
});
