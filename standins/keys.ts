/**
 * Keys for the stand-ins, generated at run time (never committed): an RS256
 * service account for the OAuth/FCM stand-in, an ES256 `.p8`-style key for
 * the APNs stand-in, an Expo access token and a OneSignal app with its key. The dev run keeps them in a git-ignored folder so the
 * Worker's local configuration stays valid across restarts.
 */
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exportJWK, exportPKCS8, generateKeyPair } from "jose";
import type { StandinKeys } from "./types.ts";

const PROJECT_ID = "learnink-standin";
const KEYS_FILE = "keys.json";

/** Upper-case letters and digits, like Apple's key and team ids. */
function appleId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join("");
}

/** Fresh stand-in credentials: a service account (RS256) and an APNs key (ES256, P-256). */
export async function generateStandinKeys(): Promise<StandinKeys> {
  const [rsa, ec] = await Promise.all([
    generateKeyPair("RS256", { extractable: true }),
    generateKeyPair("ES256", { extractable: true }),
  ]);
  return {
    serviceAccount: {
      project_id: PROJECT_ID,
      client_email: `push-relay@${PROJECT_ID}.iam.gserviceaccount.com`,
      private_key: await exportPKCS8(rsa.privateKey),
      private_key_id: randomBytes(20).toString("hex"),
    },
    fcmPublicJwk: await exportJWK(rsa.publicKey),
    apns: {
      keyId: appleId(),
      teamId: appleId(),
      topic: "com.example.learnink",
      privateKeyPem: await exportPKCS8(ec.privateKey),
      publicJwk: await exportJWK(ec.publicKey),
    },
    // Expo access tokens and OneSignal App API keys are opaque strings of about this length.
    expo: { accessToken: randomBytes(30).toString("base64url") },
    onesignal: { appId: randomUUID(), apiKey: `os_v2_app_${randomBytes(40).toString("base64url")}` },
    // AppGallery Connect App IDs are numbers; App Secrets 64 hex characters.
    hms: { appId: String(100_000_000 + randomInt(900_000_000)), appSecret: randomBytes(32).toString("hex") },
  };
}

function looksLikeKeys(value: unknown): value is StandinKeys {
  const keys = value as Partial<StandinKeys> | null;
  return (
    typeof keys?.serviceAccount?.private_key === "string" &&
    typeof keys.serviceAccount.client_email === "string" &&
    typeof keys.fcmPublicJwk === "object" &&
    typeof keys.apns?.privateKeyPem === "string" &&
    typeof keys.apns.publicJwk === "object" &&
    typeof keys.expo?.accessToken === "string" &&
    typeof keys.onesignal?.appId === "string" &&
    typeof keys.onesignal.apiKey === "string" &&
    typeof keys.hms?.appId === "string" &&
    typeof keys.hms.appSecret === "string"
  );
}

/**
 * The keys saved in `dir` (as `keys.json`), or new ones saved there when the
 * file is missing or unreadable. The folder is created if needed.
 */
export async function loadOrCreateKeys(dir: string): Promise<StandinKeys> {
  const file = join(dir, KEYS_FILE);
  try {
    const saved: unknown = JSON.parse(await readFile(file, "utf8"));
    if (looksLikeKeys(saved)) return saved;
  } catch {
    // Missing or corrupt: these are stand-in keys, so start over.
  }
  const keys = await generateStandinKeys();
  await mkdir(dir, { recursive: true });
  await writeFile(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}
