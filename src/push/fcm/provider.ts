/**
 * The FCM HTTP v1 provider: one `messages:send` per device, with a cached
 * OAuth access token that is refreshed once if FCM refuses it.
 */
import { log } from "../../log";
import type { AppSettings } from "../apps";
import { collapseKey } from "../collapse-key";
import { unusableSettings } from "../configured";
import type { CredentialCache } from "../credential-cache";
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

/** Where and how one app's pushes go: the API base and the app's Android channel. */
interface FcmTarget {
  base: string;
  channelId: string | undefined;
}

/** An FCM provider over each app's settings; credentials are looked up through `cache`. */
export function createFcmProvider(settingsOf: (app: string) => AppSettings, deps: ProviderDeps, cache: CredentialCache): PushProvider {
  return {
    name: "fcm",
    async send(message) {
      const app = settingsOf(message.app);
      if (app.kind === "unavailable") return unusableSettings("fcm", message.app, app.setting);
      if (app.missing.FCM_SERVICE_ACCOUNT) return unusableSettings("fcm", message.app, app.missing.FCM_SERVICE_ACCOUNT);
      const settings: FcmSettings = app.values;
      const target: FcmTarget = {
        base: (settings.FCM_API_BASE?.trim() || DEFAULT_FCM_API_BASE).replace(/\/+$/, ""),
        channelId: settings.ANDROID_CHANNEL_ID?.trim() || undefined,
      };
      const state = await fcmConfig(settings.FCM_SERVICE_ACCOUNT);
      if (state.kind === "not_configured") return { kind: "failed", reason: "provider_not_configured" };
      if (state.kind === "misconfigured") return unusableSettings("fcm", message.app, state.setting);
      try {
        return await sendWithRefresh(state.config, target, message, { deps, cache });
      } catch (error) {
        if (error instanceof PushFailure) return error.result;
        throw error;
      }
    },
  };
}

async function sendWithRefresh(
  config: FcmConfig,
  target: FcmTarget,
  message: PushMessage,
  { deps, cache }: { deps: ProviderDeps; cache: CredentialCache },
): Promise<PushResult> {
  const url = `${target.base}/v1/projects/${encodeURIComponent(config.projectId)}/messages:send`;
  const key = await collapseKey(message.event_id, message.index);
  const body = JSON.stringify(fcmRequestBody(message, key, deps.now(), target.channelId));
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
