/**
 * The example user, device and notification shared by `npm start`'s hints,
 * `npm run send-example` and the README, so that the commands they suggest
 * work together as printed.
 */

/** Who the example notification is for (custom_id first, as the relay looks it up). */
export const EXAMPLE_CUSTOM_ID = "emp-1001";
export const EXAMPLE_USER_ID = "li-user-1001";

/** Tokens of the right shape for each provider; the stand-ins accept any well-formed token. */
export const EXAMPLE_FCM_TOKEN = "example-fcm-token:APA91b-local-device-0001";
export const EXAMPLE_APNS_TOKEN = "a1".repeat(32);

export const EXAMPLE_NOTIFICATION = {
  title: "Time for your training",
  body: "Safety 101 is waiting for you: 5 minutes today keeps your streak.",
  path: "/courses/safety-101",
} as const;

/** Quotes a value for a POSIX shell (single quotes, with embedded ones escaped). */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export interface RegisterCommand {
  origin: string;
  /** Shown as is: a key, or a shell expression such as "$RELAY_API_KEY". */
  apiKey: string;
  provider: "fcm" | "apns";
  token: string;
  /** The user as the notification names them: custom_id when set, else LearnInk's user_id. */
  customId?: string | null;
  userId?: string;
  environment?: "production" | "sandbox";
}

const authHeader = (credential: string) =>
  credential.startsWith("$") ? `"Authorization: Bearer ${credential}"` : shellQuote(`Authorization: Bearer ${credential}`);

/** A copy-paste curl line that registers a device with the relay. */
export function registerCommand(c: RegisterCommand): string {
  const body: Record<string, string> =
    c.customId === null && c.userId ? { user_id: c.userId } : { custom_id: c.customId ?? EXAMPLE_CUSTOM_ID };
  body.provider = c.provider;
  body.token = c.token;
  if (c.environment) body.environment = c.environment;
  return [
    `curl -X PUT ${c.origin}/v1/devices`,
    `  -H ${authHeader(c.apiKey)} -H 'Content-Type: application/json'`,
    `  -d ${shellQuote(JSON.stringify(body))}`,
  ].join(" \\\n");
}

export interface DeviceTokenCommands {
  origin: string;
  /** Shown as is: a key, or a shell expression such as "$RELAY_REGISTER_KEY". */
  registerKey: string;
  customId?: string;
  provider: "fcm" | "apns";
  token: string;
}

/**
 * Copy-paste shell lines that do what an app does: get a device token for
 * its user (minted by the relay with the register key, as a backend may),
 * then register its push token with it; the relay takes the user from the
 * token, so the body names none.
 */
export function deviceTokenCommands(c: DeviceTokenCommands): string {
  return [
    `TOKEN=$(curl -s -X POST ${c.origin}/v1/device-tokens \\`,
    `  -H ${authHeader(c.registerKey)} -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(JSON.stringify({ custom_id: c.customId ?? EXAMPLE_CUSTOM_ID }))} | sed -E 's/.*"token":"([^"]+)".*/\\1/')`,
    `curl -X PUT ${c.origin}/v1/devices \\`,
    `  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(JSON.stringify({ provider: c.provider, token: c.token }))}`,
  ].join("\n");
}
