/**
 * The Push Kit stand-in refuses what Huawei refuses: a grant that is not
 * client credentials or names an unknown client, a send without a bearer
 * token minted for the App ID in its path, a message without the
 * notification Push Kit shows, and a token list that is empty or longer
 * than 1,000.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hmsToken } from "../support/ids";
import { type FreshHmsApp, freshHmsApp } from "../support/standins";

const grant = (form: Record<string, string>) =>
  fetch(`${env.STANDIN_URL}/oauth2/v3/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });

async function accessToken(app: FreshHmsApp): Promise<string> {
  const response = await grant({ grant_type: "client_credentials", client_id: app.appId, client_secret: app.appSecret });
  expect(response.status).toBe(200);
  const body = await response.json<{ access_token: string; expires_in: number; token_type: string }>();
  expect(body).toMatchObject({ expires_in: 3600, token_type: "Bearer" });
  return body.access_token;
}

const message = (overrides: Record<string, unknown> = {}) => ({
  message: {
    token: [hmsToken()],
    data: JSON.stringify({ path: "/home", event_id: "msg_1" }),
    android: { notification: { title: "Hello", body: "World", click_action: { type: 3 } } },
    ...overrides,
  },
});

const send = (appId: string, token: string, body: unknown) =>
  fetch(`${env.STANDIN_URL}/v1/${appId}/messages:send`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });

describe("Push Kit stand-in", () => {
  it("mints only for the client-credentials grant of a known app", async () => {
    const app = await freshHmsApp();
    expect((await grant({ grant_type: "password", client_id: app.appId, client_secret: app.appSecret })).status).toBe(400);
    const wrong = await grant({ grant_type: "client_credentials", client_id: app.appId, client_secret: "nope" });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error_description: "invalid client" });
    await accessToken(app);
  });

  it("accepts a send only with a token minted for the App ID in the path", async () => {
    const [app, other] = await Promise.all([freshHmsApp(), freshHmsApp()]);
    const token = await accessToken(app);
    const foreign = await send(other.appId, token, message());
    expect(foreign.status).toBe(401);
    expect(await foreign.json()).toMatchObject({ code: "80200001" });
    expect((await send(app.appId, "made-up", message())).status).toBe(401);
    const ok = await send(app.appId, token, message());
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ code: "80000000", requestId: expect.any(String) });
  });

  it("checks the message: notification and click_action, data as a string, 1 to 1,000 tokens, 4,096 bytes", async () => {
    const app = await freshHmsApp();
    const token = await accessToken(app);
    const code = async (body: unknown) => ((await (await send(app.appId, token, body)).json()) as { code: string }).code;
    expect(await code(message({ android: {} }))).toBe("80100003");
    expect(await code(message({ android: { notification: { title: "t", body: "b" } } }))).toBe("80100003");
    expect(await code(message({ android: { notification: { title: "t", body: "b", click_action: { type: 1 } } } }))).toBe("80100003");
    expect(await code(message({ data: { path: "/home" } }))).toBe("80100003");
    expect(await code(message({ token: [] }))).toBe("80300010");
    expect(await code(message({ token: Array.from({ length: 1001 }, () => hmsToken()) }))).toBe("80300010");
    expect(await code(message({ data: "x".repeat(4096) }))).toBe("80300008");
  });
});
