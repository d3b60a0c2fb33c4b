/**
 * The Worker's secrets, in one list: `npm run deploy` checks the deployed
 * Worker against it, names the ones still missing with the command that sets
 * each, and asks for them in a terminal. A new secret is one entry here (and
 * its line in `.dev.vars.example`, which `npm run types` reads for `Env`; a
 * test keeps the two in step).
 */

/** How a value is typed in: one line (hidden as it is typed), or read from a file (JSON, PEM keep their line breaks). */
export type SecretInput = { kind: "line"; generate?: () => string } | { kind: "file"; example: string };

export interface SecretSpec {
  name: string;
  /** Required: the relay does not work without it. Optional: one feature stays off (said in `without`). */
  required: boolean;
  /** What the value is and where it comes from. */
  what: string;
  /** What happens while it is missing. */
  without: string;
  input: SecretInput;
  /** Why a value is refused, or null when it looks right. */
  check?: (value: string) => string | null;
}

/** 32 random bytes, base64 (44 characters): a bearer key, or a device-token secret. */
export function generateKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
}

/** Bearer keys: each space-separated value at least 16 characters (a generated one has 44). */
function longEnoughKeys(value: string): string | null {
  return value.trim().split(/\s+/).every((key) => key.length >= 16) ? null : "use at least 16 characters for each key";
}

export const SECRETS: SecretSpec[] = [
  {
    name: "LEARNINK_WEBHOOK_SECRET",
    required: true,
    what: "the signing secret of the webhook endpoint you create in the LearnInk dashboard (whsec_...)",
    without: "the webhook answers 500 not_configured",
    input: { kind: "line" },
    check: (value) => (value.split(/\s+/).every((s) => /^whsec_[A-Za-z0-9+/=]+$/.test(s)) ? null : "expected whsec_... (several space-separated for rotation)"),
  },
  {
    name: "RELAY_API_KEY",
    required: true,
    what: "the admin key for everything under /v1 (the operator's; space-separated for rotation)",
    without: "/v1 answers 500 not_configured",
    input: { kind: "line", generate: generateKey },
    check: longEnoughKeys,
  },
  {
    name: "RELAY_REGISTER_KEY",
    required: false,
    what: "the company backend's key: registers devices and issues device tokens, nothing else",
    without: "the backend needs the admin key to register devices or mint device tokens (or signs device tokens itself)",
    input: { kind: "line", generate: generateKey },
    check: longEnoughKeys,
  },
  {
    name: "DEVICE_TOKEN_SECRET",
    required: false,
    what: "signs the device tokens the app uses (at least 32 bytes, shared with your backend)",
    without: "device tokens are refused and POST /v1/device-tokens answers 500 not_configured",
    input: { kind: "line", generate: generateKey },
    check: (value) => (value.split(/\s+/).every((s) => new TextEncoder().encode(s).length >= 32) ? null : "each value needs at least 32 bytes"),
  },
  {
    name: "FCM_SERVICE_ACCOUNT",
    required: false,
    what: "the Firebase service-account JSON (Android pushes)",
    without: "FCM deliveries fail with provider_not_configured",
    input: { kind: "file", example: "service-account.json" },
    check: (value) => {
      try {
        const account = JSON.parse(value) as Record<string, unknown>;
        return ["project_id", "client_email", "private_key"].every((key) => typeof account[key] === "string")
          ? null
          : "the JSON lacks project_id, client_email or private_key";
      } catch {
        return "not JSON";
      }
    },
  },
  {
    name: "APNS_KEY",
    required: false,
    what: "the APNs auth key, the .p8 file's content (iOS pushes; also set APNS_KEY_ID, APNS_TEAM_ID, APNS_TOPIC in wrangler.toml)",
    without: "APNs deliveries fail with provider_not_configured",
    input: { kind: "file", example: "AuthKey_XXXXXXXXXX.p8" },
    check: (value) => (value.includes("BEGIN PRIVATE KEY") ? null : "expected the .p8 file (-----BEGIN PRIVATE KEY-----)"),
  },
  {
    name: "EXPO_ACCESS_TOKEN",
    required: false,
    what: "an Expo access token (expo.dev, Access tokens), only needed when the Expo project has enhanced push security on",
    without: "Expo pushes go without one, which Expo accepts unless push security is on",
    input: { kind: "line" },
    check: (value) => (/^\S{20,}$/.test(value.trim()) ? null : "expected the token as expo.dev shows it (one word, 20 characters or more)"),
  },
  {
    name: "ONESIGNAL_API_KEY",
    required: false,
    what: "the OneSignal App API key (OneSignal, Settings, Keys & IDs), for users without a device here; set ONESIGNAL_APP_ID in wrangler.toml too",
    without: "OneSignal is off (or, with ONESIGNAL_APP_ID set, its deliveries wait as provider_misconfigured:ONESIGNAL_API_KEY)",
    input: { kind: "line" },
    check: (value) => (/^\S{20,}$/.test(value.trim()) ? null : "expected the App API key as OneSignal shows it (one word)"),
  },
  {
    name: "HMS_APP_SECRET",
    required: false,
    what: "the Huawei App Secret (AppGallery Connect, Project settings, App information), for Huawei phones without Google services; set HMS_APP_ID in wrangler.toml too",
    without: "Huawei deliveries fail with provider_not_configured (or, with HMS_APP_ID set, wait as provider_misconfigured:HMS_APP_SECRET)",
    input: { kind: "line" },
    check: (value) => (/^\S{16,}$/.test(value.trim()) ? null : "expected the App Secret as AppGallery Connect shows it (one word)"),
  },
];

/** The command that sets one secret, as a user types it. */
export function secretPutCommand(spec: SecretSpec): string {
  const command = `npx wrangler secret put ${spec.name}`;
  return spec.input.kind === "file" ? `${command} < ${spec.input.example}` : command;
}
