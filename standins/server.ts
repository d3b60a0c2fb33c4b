/**
 * Starts the stand-in OAuth, FCM, APNs, Expo and OneSignal servers: one
 * HTTP server on 127.0.0.1, routed by path, so the relay's `token_uri`,
 * `FCM_API_BASE`, `APNS_API_BASE`, `EXPO_API_BASE` and `ONESIGNAL_API_BASE`
 * can all point at one URL. Used by the test suite's global setup, the
 * local dev run and the benchmark.
 *
 *   POST /token                                  Google OAuth2 token endpoint
 *   POST /v1/projects/:project_id/messages:send  FCM HTTP v1
 *   POST /3/device/:token                        APNs (HTTP/1.1 here, HTTP/2 at Apple)
 *   POST /--/api/v2/push/send                    Expo push tickets
 *   POST /--/api/v2/push/getReceipts             Expo push receipts
 *   POST /notifications                          OneSignal Create message (push)
 *   POST /oauth2/v3/token                        Huawei OAuth 2.0 (client credentials)
 *   POST /v1/:app_id/messages:send               Huawei Push Kit
 *   GET  /cdn-cgi/access/certs                   Cloudflare Access signing keys
 *   /__standin/...                               control API (control.ts)
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AccessKeys } from "./access.ts";
import { handleApnsPush } from "./apns.ts";
import { ProviderTokens } from "./apns-auth.ts";
import type { StandinContext } from "./context.ts";
import { handleControl } from "./control.ts";
import { Credentials } from "./credentials.ts";
import { EXPO_RECEIPTS_PATH, EXPO_SEND_PATH, handleExpoReceipts, handleExpoSend } from "./expo.ts";
import { ExpoReceipts } from "./expo-receipts.ts";
import { handleFcmSend } from "./fcm.ts";
import { Faults } from "./faults.ts";
import { handleHmsSend, handleHmsToken, HMS_SEND, HMS_TOKEN_PATH } from "./hms.ts";
import { HmsApps } from "./hms-apps.ts";
import { rpcError } from "./google-errors.ts";
import { json, PendingTimers, readBody, respond, type Answer } from "./http.ts";
import { generateStandinKeys } from "./keys.ts";
import { handleToken } from "./oauth.ts";
import { handleOneSignalNotification, ONESIGNAL_NOTIFICATIONS_PATH } from "./onesignal.ts";
import { OneSignalApps } from "./onesignal-apps.ts";
import { handleOneSignalView } from "./onesignal-view.ts";
import { apnsError } from "./presets.ts";
import { Records } from "./records.ts";
import type { StandinOptions, Standins } from "./types.ts";

/**
 * Bodies beyond this are refused unread. FCM and APNs allow 4,096-byte
 * payloads; an Expo request carries up to 100 messages and a OneSignal one
 * up to 20,000 ids, a few hundred KB at most.
 */
const BODY_LIMIT = 4 * 1024 * 1024;
const FCM_SEND = /^\/v1\/projects\/([^/]+)\/messages:send$/;
const APNS_DEVICE = "/3/device/";
const CONTROL = "/__standin/";

async function route(context: StandinContext, request: IncomingMessage): Promise<Answer> {
  const url = new URL(request.url ?? "/", context.url);
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return json(400, { error: "malformed path" });
  }
  const body = await readBody(request, BODY_LIMIT);
  const method = request.method ?? "GET";

  if (path.startsWith(APNS_DEVICE)) {
    const token = path.slice(APNS_DEVICE.length);
    return body === null ? apnsError(413, "PayloadTooLarge") : handleApnsPush(context, request, token, body);
  }
  if (body === null) return rpcError(413, "INVALID_ARGUMENT", "Request payload size exceeds the limit.");
  if (path === "/token") {
    return method === "POST" ? handleToken(context, body) : rpcError(405, "METHOD_NOT_ALLOWED", "POST only");
  }
  const fcm = FCM_SEND.exec(path);
  if (fcm?.[1]) {
    return method === "POST" ? handleFcmSend(context, request, fcm[1], body) : rpcError(405, "METHOD_NOT_ALLOWED", "POST only");
  }
  if (path === EXPO_SEND_PATH) return handleExpoSend(context, request, body);
  if (path === EXPO_RECEIPTS_PATH) return handleExpoReceipts(context, request, body);
  if (path === ONESIGNAL_NOTIFICATIONS_PATH && method === "GET") return handleOneSignalView(context, request.headers.authorization, url.searchParams);
  if (path === ONESIGNAL_NOTIFICATIONS_PATH) return handleOneSignalNotification(context, request, url.searchParams, body);
  if (path === HMS_TOKEN_PATH) return method === "POST" ? handleHmsToken(context, body) : json(405, { error: "POST only" });
  const hms = HMS_SEND.exec(path);
  if (hms?.[1]) return method === "POST" ? handleHmsSend(context, request, hms[1], body) : json(405, { error: "POST only" });
  if (path === "/cdn-cgi/access/certs" && method === "GET") return context.accessKeys.certs();
  if (path.startsWith(CONTROL)) return handleControl(context, method, path.slice(CONTROL.length), url.searchParams, body);
  return rpcError(404, "NOT_FOUND", `The stand-ins have no route ${method} ${path}`);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts the stand-ins on 127.0.0.1 (`options.port`, else any free port),
 * trusting `options.keys` (else freshly generated ones). With
 * `options.print`, each accepted push is printed as one readable line.
 */
export async function startStandins(options: StandinOptions = {}): Promise<Standins> {
  const keys = options.keys ?? (await generateStandinKeys());
  const credentials = new Credentials();
  await credentials.addStartingKeys(keys);
  const onesignal = new OneSignalApps();
  onesignal.add({ app_id: keys.onesignal.appId, api_key: keys.onesignal.apiKey });
  const hms = new HmsApps();
  hms.add({ app_id: keys.hms.appId, app_secret: keys.hms.appSecret });
  const timers = new PendingTimers();
  let context: StandinContext | undefined;

  // Long keep-alive: workerd reuses connections, and a socket closed under
  // it between two pushes would show up as a spurious network error.
  const server = createServer({ keepAliveTimeout: 120_000, headersTimeout: 130_000 }, (request, response) => {
    if (!context) {
      response.writeHead(503).end();
      return;
    }
    route(context, request).then(
      (answer) => respond(response, answer, timers),
      (error: unknown) => {
        console.error("stand-in failure:", error);
        respond(response, json(500, { error: `stand-in failure: ${String(error)}` }), timers);
      },
    );
  });
  const port = await listen(server, options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  context = {
    url,
    credentials,
    providerTokens: new ProviderTokens(credentials),
    records: new Records(),
    scripts: new Map(),
    faults: new Faults(),
    accessKeys: new AccessKeys(),
    expoReceipts: new ExpoReceipts(),
    onesignal,
    hms,
    print: options.print || undefined,
    now: Date.now,
  };

  return {
    url,
    keys,
    async close() {
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
