/**
 * Reads FCM_SERVICE_ACCOUNT, the service-account JSON Google hands out, and
 * imports its RSA key for signing the OAuth assertion.
 */
import { importPKCS8 } from "jose";
import { type Configured, memoizeBySource, misconfigured, normalizePem } from "../configured";

export const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
const SETTING = "FCM_SERVICE_ACCOUNT";

export interface FcmConfig {
  projectId: string;
  clientEmail: string;
  /** Sent as the assertion's `kid` so Google picks the right key at once. */
  privateKeyId: string | undefined;
  tokenUri: string;
  key: CryptoKey;
}

const parse = memoizeBySource(async (source: string): Promise<Configured<FcmConfig>> => {
  let account: unknown;
  try {
    account = JSON.parse(source);
  } catch {
    return misconfigured("fcm", SETTING, "not valid JSON");
  }
  if (typeof account !== "object" || account === null) return misconfigured("fcm", SETTING, "not a JSON object");
  const fields = account as Record<string, unknown>;
  for (const field of ["project_id", "client_email", "private_key"]) {
    const value = fields[field];
    if (typeof value !== "string" || value.trim() === "") return misconfigured("fcm", SETTING, `${field} is missing`);
  }
  const tokenUri = fields.token_uri ?? DEFAULT_TOKEN_URI;
  if (typeof tokenUri !== "string" || !/^https?:\/\//.test(tokenUri)) {
    return misconfigured("fcm", SETTING, "token_uri is not an http(s) URL");
  }
  let key: CryptoKey;
  try {
    key = await importPKCS8(normalizePem(fields.private_key as string), "RS256");
  } catch {
    return misconfigured("fcm", SETTING, "private_key is not a PKCS#8 PEM RSA key");
  }
  const privateKeyId = typeof fields.private_key_id === "string" && fields.private_key_id !== "" ? fields.private_key_id : undefined;
  return {
    kind: "ok",
    config: { projectId: fields.project_id as string, clientEmail: fields.client_email as string, privateKeyId, tokenUri, key },
  };
});

/** The parsed service account; `not_configured` when the secret is unset or blank. */
export function fcmConfig(serviceAccount: string | undefined): Promise<Configured<FcmConfig>> {
  if (!serviceAccount?.trim()) return Promise.resolve({ kind: "not_configured" });
  return parse(serviceAccount);
}
