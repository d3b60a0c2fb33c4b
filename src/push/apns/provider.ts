/**
 * The APNs provider: `POST /3/device/{token}` with a shared provider JWT,
 * renewed once if Apple refuses it, and one try on the other environment's
 * host when Apple says BadDeviceToken (a sandbox token sent to production
 * gets exactly that answer).
 */
import type { ApnsEnvironment } from "../../vocabulary";
import { log } from "../../log";
import { apnsCredentialName, apnsProviderToken } from "./auth";
import { classifyApns } from "./classify";
import { type ApnsConfig, type ApnsSettings, apnsBase, apnsConfig } from "./config";
import { apnsHeaders, apnsPayload } from "./message";
import { collapseKey } from "../collapse-key";
import { unusableSettings } from "../configured";
import type { CredentialCache } from "../credential-cache";
import type { ProviderContext } from "../descriptor";
import { PushFailure } from "../failure";
import { request } from "../http";
import type { ProviderDeps, PushMessage, PushProvider, PushResult } from "../provider";
import { noAnswer, type Verdict } from "../verdict";

export interface ApnsProviderSettings extends ApnsSettings {
  APNS_API_BASE?: string;
}

const OTHER: Record<ApnsEnvironment, ApnsEnvironment> = { production: "sandbox", sandbox: "production" };

/** An APNs provider over each app's settings; provider tokens are looked up through the context's cache. */
export function createApnsProvider({ settingsFor, deps, cache }: ProviderContext<ApnsProviderSettings>): PushProvider {
  return {
    name: "apns",
    async send(message) {
      const app = settingsFor(message.app);
      if (app.kind === "unusable") return app.result;
      const state = await apnsConfig(app.settings);
      if (state.kind === "not_configured") return { kind: "failed", reason: "provider_not_configured" };
      if (state.kind === "misconfigured") return unusableSettings("apns", message.app, state.setting);
      try {
        return await sendWithFallbacks({ config: state.config, apiBase: app.settings.APNS_API_BASE, deps, cache }, message);
      } catch (error) {
        if (error instanceof PushFailure) return error.result;
        throw error;
      }
    },
  };
}

/** What one APNs send travels with. */
interface ApnsSend {
  config: ApnsConfig;
  apiBase: string | undefined;
  deps: ProviderDeps;
  cache: CredentialCache;
}

/** At most three requests: the push, once more after a token renewal, once on the other host. */
async function sendWithFallbacks({ config, apiBase, deps, cache }: ApnsSend, message: PushMessage): Promise<PushResult> {
  const body = JSON.stringify(apnsPayload(message));
  const collapseId = await collapseKey(message.event_id, message.index);
  const post = async (environment: ApnsEnvironment, jwt: string): Promise<Verdict> => {
    const url = `${apnsBase(apiBase, environment)}/3/device/${encodeURIComponent(message.token)}`;
    const outcome = await request(deps, url, {
      method: "POST",
      headers: apnsHeaders(jwt, config.topic, collapseId, deps.now()),
      body,
    });
    return outcome.kind === "answer" ? classifyApns(outcome.status, outcome.headers, outcome.body, deps.now()) : noAnswer(outcome);
  };

  const name = apnsCredentialName(config);
  let jwt = await apnsProviderToken(config, deps, cache);
  let environment = message.environment;
  let renewed = false;
  for (;;) {
    const verdict = await post(environment, jwt);
    if (verdict.kind === "refresh_credentials") {
      if (!renewed) {
        renewed = true;
        jwt = await apnsProviderToken(config, deps, cache, jwt);
        continue;
      }
      // Refused freshly signed: not an old token but a setting (key id, team, revoked key). Hold the
      // name for a minute (no re-signing per push) and raise the alert.
      log("credentials", { provider: "apns", reason: "credentials_rejected", apns_reason: verdict.reason, key_id: config.keyId }, "error");
      cache.refused(name);
      return { kind: "misconfigured", reason: "InvalidProviderToken" };
    }
    if (verdict.kind === "invalid_token" && verdict.reason === "BadDeviceToken" && environment === message.environment) {
      environment = OTHER[message.environment];
      continue;
    }
    if (verdict.kind === "retry" && verdict.reason === "TooManyProviderTokenUpdates") {
      // Some isolate renewed the token outside the shared table (D1 unavailable?): wait, do not renew again.
      log("credentials", { provider: "apns", reason: verdict.reason, key_id: config.keyId }, "warn");
    }
    if (verdict.kind === "sent" && environment !== message.environment) return { ...verdict, environment };
    return verdict;
  }
}
