/**
 * Reads the APNs token-auth settings: the .p8 signing key (PEM), its key id,
 * the team id and the app's bundle id (the topic), and picks the host.
 */
import { importPKCS8 } from "jose";
import type { ApnsEnvironment } from "../../vocabulary";
import { type Configured, memoizeBySource, misconfigured, normalizePem } from "../configured";

export const APNS_HOSTS: Record<ApnsEnvironment, string> = {
  production: "https://api.push.apple.com",
  sandbox: "https://api.sandbox.push.apple.com",
};

export interface ApnsConfig {
  keyId: string;
  teamId: string;
  topic: string;
  key: CryptoKey;
}

export interface ApnsSettings {
  APNS_KEY?: string;
  APNS_KEY_ID?: string;
  APNS_TEAM_ID?: string;
  APNS_TOPIC?: string;
}

const parse = memoizeBySource(async (source: string): Promise<Configured<ApnsConfig>> => {
  const [pem = "", keyId = "", teamId = "", topic = ""] = source.split("\u0000");
  // The key is the credential; without the ids beside it the key is useless, which is a mistake to report.
  for (const [setting, value] of [["APNS_KEY_ID", keyId], ["APNS_TEAM_ID", teamId], ["APNS_TOPIC", topic]] as const) {
    if (value === "") return misconfigured("apns", setting, "is empty while APNS_KEY is set");
  }
  try {
    return { kind: "ok", config: { keyId, teamId, topic, key: await importPKCS8(normalizePem(pem), "ES256") } };
  } catch {
    return misconfigured("apns", "APNS_KEY", "is not a PKCS#8 PEM EC P-256 key (.p8)");
  }
});

/** The parsed settings; `not_configured` when APNS_KEY is unset or blank. */
export function apnsConfig(settings: ApnsSettings): Promise<Configured<ApnsConfig>> {
  const pem = settings.APNS_KEY?.trim() ?? "";
  if (pem === "") return Promise.resolve({ kind: "not_configured" });
  const ids = [settings.APNS_KEY_ID, settings.APNS_TEAM_ID, settings.APNS_TOPIC].map((v) => v?.trim() ?? "");
  return parse([pem, ...ids].join("\u0000"));
}

/** APNS_API_BASE when set (tests: one stand-in for both), else the environment's host. */
export function apnsBase(apiBase: string | undefined, environment: ApnsEnvironment): string {
  const base = apiBase?.trim();
  return (base ? base : APNS_HOSTS[environment]).replace(/\/+$/, "");
}
