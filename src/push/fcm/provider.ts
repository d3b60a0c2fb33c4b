/**
 * The FCM HTTP v1 provider: one `messages:send` per device, with a cached
 * OAuth access token that is refreshed once if FCM refuses it.
 */
import { log } from "../../log";
import { collapseKey } from "../collapse-key";
import { unusableSettings } from "../configured";
import type { CredentialCache } from "../credential-cache";
import type { ProviderContext } from "../descriptor";
import { fcmAccessToken, fcmCredentialName } from "./auth";
import { classifyFcm } from "./classify";
import { type FcmConfig, fcmConfig } from "./config";
import { fcmRequestBody } from "./message";
import { PushFailure } from "../failure";
import { request } from "../http";
import type { ProviderDeps, PushMessage, PushProvider, PushResult } from "../provider";
import { noAnswer, type Verdict } from "../verdict";

export const DEFAULT_FCM_API_BASE = "https://fcm.googleapis.com";

export interface FcmSettings {
  FCM_SERVICE_ACCOUNT?: string;
  FCM_API_BASE?: string;
  /** The app's Android notification channel (`android_channel_id` in APPS); blank: Android's default. */
  ANDROID_CHANNEL_ID?: string;
}

/** An FCM provider over each app's settings; credentials are looked up through the context's cache. */
export function createFcmProvider({ settingsFor, deps, cache }: ProviderContext<FcmSettings>): PushProvider {
  return {
    name: "fcm",
    async send(message) {
      const app = settingsFor(message.app);
      if (app.kind === "unusable") return app.result;
      const base = (app.settings.FCM_API_BASE?.trim() || DEFAULT_FCM_API_BASE).replace(/\/+$/, "");
      const channelId = app.settings.ANDROID_CHANNEL_ID?.trim() || undefined;
      const state = await fcmConfig(app.settings.FCM_SERVICE_ACCOUNT);
      if (state.kind === "not_configured") return { kind: "failed", reason: "provider_not_configured" };
      if (state.kind === "misconfigured") return unusableSettings("fcm", message.app, state.setting);
      try {
        return await sendWithRefresh({ config: state.config, base, channelId, deps, cache }, message);
      } catch (error) {
        if (error instanceof PushFailure) return error.result;
        throw error;
      }
    },
  };
}

/** What one FCM send travels with: the account, the API base, the app's Android channel. */
interface FcmSend {
  config: FcmConfig;
  base: string;
  channelId: string | undefined;
  deps: ProviderDeps;
  cache: CredentialCache;
}

async function sendWithRefresh({ config, base, channelId, deps, cache }: FcmSend, message: PushMessage): Promise<PushResult> {
  const url = `${base}/v1/projects/${encodeURIComponent(config.projectId)}/messages:send`;
  const body = JSON.stringify(fcmRequestBody(message, await collapseKey(message.event_id, message.index), deps.now(), channelId));
  const post = async (accessToken: string): Promise<Verdict> => {
    const outcome = await request(deps, url, {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json; charset=utf-8" },
      body,
    });
    return outcome.kind === "answer" ? classifyFcm(outcome.status, outcome.headers, outcome.body, deps.now()) : noAnswer(outcome);
  };

  const name = fcmCredentialName(config);
  const token = await fcmAccessToken(config, deps, cache);
  let verdict = await post(token);
  if (verdict.kind === "refresh_credentials") {
    // Our token was refused (revoked, or expired early): drop it everywhere, get another, try once more.
    verdict = await post(await fcmAccessToken(config, deps, cache, token));
    if (verdict.kind === "refresh_credentials") {
      log("credentials", { provider: "fcm", reason: "credentials_rejected", fcm_error: verdict.reason }, "error");
      return cache.refused(name);
    }
  }
  return verdict;
}
