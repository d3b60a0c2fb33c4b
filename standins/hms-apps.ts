/**
 * What the Push Kit stand-in knows: apps (App ID and App Secret, as
 * AppGallery Connect issues them) and the access tokens it handed out,
 * each bound to the app it was minted for and valid for an hour (as
 * Huawei's), or for the lifetime a test asks for.
 */
import { randomBytes } from "node:crypto";
import type { HmsAppRegistration } from "./types.ts";

/** Huawei's access tokens live an hour (`expires_in` 3600). */
export const HMS_TOKEN_TTL_S = 3600;

interface HmsApp {
  secret: string;
  ttlSeconds: number;
}

export class HmsApps {
  #apps = new Map<string, HmsApp>();
  #tokens = new Map<string, { appId: string; expiresAt: number }>();

  add(registration: HmsAppRegistration): void {
    this.#apps.set(registration.app_id, { secret: registration.app_secret, ttlSeconds: registration.token_ttl_seconds ?? HMS_TOKEN_TTL_S });
  }

  /** A new access token for the app, or null when the id and secret are not an app's. */
  mint(appId: string, secret: string, nowMs: number): { token: string; expiresIn: number } | null {
    const app = this.#apps.get(appId);
    if (!app || app.secret !== secret) return null;
    const token = `CgB6e3x9${randomBytes(48).toString("base64url")}`;
    this.#tokens.set(token, { appId, expiresAt: nowMs + app.ttlSeconds * 1000 });
    return { token, expiresIn: app.ttlSeconds };
  }

  /** Why `token` may not send for `appId` (Push Kit's result code), or null when it may. */
  refusal(token: string, appId: string, nowMs: number): "80200001" | "80200003" | null {
    const issued = this.#tokens.get(token);
    if (!issued || issued.appId !== appId) return "80200001";
    return issued.expiresAt > nowMs ? null : "80200003";
  }
}

/** Why `value` is not an HmsAppRegistration, or null. */
export function hmsAppProblem(value: Record<string, unknown>): string | null {
  if (typeof value.app_id !== "string" || value.app_id === "") return "app_id must be a non-empty string";
  if (typeof value.app_secret !== "string" || value.app_secret === "") return "app_secret must be a non-empty string";
  if (value.token_ttl_seconds !== undefined && !(Number.isInteger(value.token_ttl_seconds) && (value.token_ttl_seconds as number) > 0)) {
    return "token_ttl_seconds must be a positive integer";
  }
  return null;
}
