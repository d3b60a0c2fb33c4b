/**
 * The state one running set of stand-ins shares between its routes.
 */
import type { AccessKeys } from "./access.ts";
import type { ProviderTokens } from "./apns-auth.ts";
import type { Credentials } from "./credentials.ts";
import type { ExpoReceipts } from "./expo-receipts.ts";
import type { Faults } from "./faults.ts";
import type { HmsApps } from "./hms-apps.ts";
import type { OneSignalApps } from "./onesignal-apps.ts";
import type { Records } from "./records.ts";
import type { ScriptedResponse } from "./types.ts";

export interface StandinContext {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly credentials: Credentials;
  /** APNs provider tokens: verification cache and rotation tracking. */
  readonly providerTokens: ProviderTokens;
  readonly records: Records;
  /** Scripted answers waiting, by device token. */
  readonly scripts: Map<string, ScriptedResponse[]>;
  readonly faults: Faults;
  /** Expo push receipts, by ticket id. */
  readonly expoReceipts: ExpoReceipts;
  /** OneSignal apps: keys, users, idempotency keys. */
  readonly onesignal: OneSignalApps;
  /** Huawei apps and the access tokens minted for them. */
  readonly hms: HmsApps;
  /** Cloudflare Access signing keys tests registered. */
  readonly accessKeys: AccessKeys;
  readonly print: ((line: string) => void) | undefined;
  /** Epoch milliseconds. */
  now(): number;
}
