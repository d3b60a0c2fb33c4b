/**
 * `npm run send-example`: what the LearnInk dashboard's "Send Example"
 * does, against the local relay by default. It signs a `notifications.sent`
 * event with the svix library and the relay's webhook secret, posts it,
 * prints the answer and then (by default for a local relay) follows
 * `GET /v1/events/:svix_id` until every delivery has settled.
 *
 *   npm run send-example -- [--url URL] [--count 3] [--custom-id emp-1001] ...
 */
import { parseArgs } from "node:util";
import { type Delivery, PollError, describeDelivery, followEvent } from "./lib/deliveries.ts";
import { exampleEvent, newMessageId, signedHeaders } from "./lib/example-event.ts";
import {
  EXAMPLE_CUSTOM_ID,
  EXAMPLE_FCM_TOKEN,
  EXAMPLE_NOTIFICATION,
  EXAMPLE_USER_ID,
  registerCommand,
} from "./lib/examples.ts";
import { firstOf, fromDevVars, localValue, readLocalEnv } from "./lib/local-env.ts";
import { readLocalRelay } from "./lib/local-relay.ts";
import { scriptAnswers } from "./lib/standin-answers.ts";
import { DEFAULT_HOST, DEFAULT_PORT, ROOT, WEBHOOK_PATH } from "./lib/project.ts";

const DEFAULT_URL = `http://${DEFAULT_HOST}:${DEFAULT_PORT}${WEBHOOK_PATH}`;
/** The relay `npm start` is running, on whatever port; else the default. */
const running = readLocalRelay();
const LOCAL_URL = running ? `${running.url}${WEBHOOK_PATH}` : DEFAULT_URL;

const USAGE = `Usage: npm run send-example -- [options]

  --url URL          the webhook endpoint (default: the relay npm start is running, else ${DEFAULT_URL})
  --secret whsec_... signing secret (default: LEARNINK_WEBHOOK_SECRET from .dev.vars, else .dev.vars.example)
  --type TYPE        event type (default notifications.sent; others are acknowledged and ignored)
  --custom-id ID     the user's custom_id (default ${EXAMPLE_CUSTOM_ID}; "" for none)
  --user-id ID       LearnInk's user_id (default ${EXAMPLE_USER_ID})
  --title TEXT       --body TEXT   --path /PATH   the notification
  --count N          number of notifications, all for this user (default 1)
  --id MSG_ID        the svix-id (default: a new one; reuse one to see a repeat change nothing)
  --wait, --no-wait  follow GET /v1/events/:svix_id until every delivery settles
                     (default: on for a relay on localhost/127.0.0.1)
  --api-key KEY      bearer key for --wait (default: RELAY_API_KEY from .dev.vars, else .dev.vars.example)
  --timeout S        seconds to wait for the deliveries (default 30)
  --answer PRESET    npm start's stand-ins answer this user's devices with a scripted failure for this
                     event: invalid_argument (failed), unavailable (retried, then sent), unregistered
                     (device removed; quarantined in a burst), ... (standins/presets.ts lists them)
  -h, --help         this text`;

class UsageError extends Error {}

const say = (line = "") => process.stdout.write(`${line}\n`);
const fail = (line: string) => process.stderr.write(`${line}\n`);

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      allowNegative: true,
      options: {
        url: { type: "string", default: LOCAL_URL },
        secret: { type: "string" },
        type: { type: "string", default: "notifications.sent" },
        "custom-id": { type: "string", default: EXAMPLE_CUSTOM_ID },
        "user-id": { type: "string", default: EXAMPLE_USER_ID },
        title: { type: "string", default: EXAMPLE_NOTIFICATION.title },
        body: { type: "string", default: EXAMPLE_NOTIFICATION.body },
        path: { type: "string", default: EXAMPLE_NOTIFICATION.path },
        count: { type: "string", default: "1" },
        id: { type: "string" },
        wait: { type: "boolean" },
        "api-key": { type: "string" },
        timeout: { type: "string", default: "30" },
        answer: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  if (v.help) {
    say(USAGE);
    process.exit(0);
  }
  let url: URL;
  try {
    url = new URL(v.url);
  } catch {
    throw new UsageError(`--url is not a URL: "${v.url}"`);
  }
  // A bare origin means the relay: add the webhook path.
  if (url.pathname === "/") url.pathname = WEBHOOK_PATH;
  const count = Number(v.count);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count must be a positive integer, not "${v.count}"`);
  const timeout = Number(v.timeout);
  if (!(timeout > 0)) throw new UsageError(`--timeout must be a number of seconds, not "${v.timeout}"`);
  if (!v.path.startsWith("/")) throw new UsageError(`--path must start with "/", not "${v.path}"`);
  const local = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  return {
    url,
    secret: v.secret,
    type: v.type,
    customId: v["custom-id"] === "" ? null : v["custom-id"],
    userId: v["user-id"],
    title: v.title,
    body: v.body,
    path: v.path,
    count,
    id: v.id ?? newMessageId(),
    wait: v.wait ?? local,
    apiKey: v["api-key"],
    timeoutMs: timeout * 1000,
    answer: v.answer,
  };
}

/** Network failures worth a sentence instead of a stack trace. */
function describeFetchError(error: unknown, url: URL): string {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  if (code === "ECONNREFUSED") {
    const local = url.origin === new URL(LOCAL_URL).origin;
    return `Nothing is listening at ${url.origin}: is the relay running? Start it with \`npm start\`${local ? "" : ` (or check --url)`}.`;
  }
  if (code === "ENOTFOUND") return `Cannot resolve ${url.hostname}: check --url.`;
  return `Could not reach ${url.origin}: ${code ?? (error instanceof Error ? error.message : String(error))}`;
}

/** `--answer`: scripts npm start's stand-ins for this user's devices, one scripted answer per notification. */
async function prepareAnswers(o: ReturnType<typeof options>, apiKey: string | undefined): Promise<void> {
  const standinsUrl = running?.standins;
  if (!standinsUrl || running?.url !== o.url.origin) throw new UsageError("--answer needs the stand-ins of the relay npm start is running, and that relay as --url.");
  if (!apiKey) throw new UsageError("--answer needs an API key (--api-key, or RELAY_API_KEY in .dev.vars).");
  const user = o.customId ? { by: "custom_id" as const, id: o.customId } : { by: "user_id" as const, id: o.userId };
  let devices: number;
  try {
    devices = await scriptAnswers({ origin: o.url.origin, apiKey, standinsUrl, user, preset: o.answer!, count: o.count });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  say(`Stand-ins: the next ${o.count > 1 ? `${o.count} pushes` : "push"} to each of ${user.by} ${user.id}'s ${devices} device(s) get ${o.answer}.`);
}

/**
 * The event's counts when the ledger already has it settled (nothing
 * sending or retrying), else null: a first send, or one still under way.
 */
async function settledBefore(origin: string, apiKey: string | undefined, eventId: string): Promise<Record<string, number> | null> {
  if (!apiKey) return null;
  try {
    const response = await fetch(`${origin}/v1/events/${encodeURIComponent(eventId)}?limit=1`, { headers: { authorization: `Bearer ${apiKey}` } });
    if (response.status !== 200) {
      await response.body?.cancel();
      return null;
    }
    const { summary } = (await response.json()) as { summary: Record<string, number> };
    return summary.sending || summary.retrying ? null : summary;
  } catch {
    return null; // the POST below says what is wrong with the relay
  }
}

function explainRejection(status: number, text: string, secretSource: string, url: URL): string[] {
  let code = "";
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "";
  } catch {
    // not JSON: shown as is below
  }
  if (status === 401) {
    return [
      `The relay refused the signature (401 ${code || "unauthorized"}).`,
      `  The secret used here (${secretSource}) is not one of the relay's LEARNINK_WEBHOOK_SECRET,`,
      "  or this machine's clock is more than 5 minutes off (Svix timestamps are checked both ways).",
      "  Pass the relay's secret with --secret whsec_..., or make .dev.vars match the relay's.",
    ];
  }
  if (status === 404) return [`Nothing answers at ${url.pathname} (404): the relay's webhook is POST ${WEBHOOK_PATH}.`];
  if (status === 500 && code === "not_configured") return ["The relay has no LEARNINK_WEBHOOK_SECRET configured (500 not_configured)."];
  return [`The relay answered ${status}${code ? ` ${code}` : ""}.`];
}

type Options = ReturnType<typeof options>;
type Env = ReturnType<typeof readLocalEnv>;

/** What the follow found: the counts for the last line, and whether a user had no device. */
interface Settled {
  counts: string;
  noDevice: boolean;
}

/** Follows GET /v1/events/:svix_id until every delivery settled; null (after saying why) when it could not. */
async function follow(o: Options, apiKey: string): Promise<Settled | null> {
  say(`Following GET ${o.url.origin}/v1/events/${o.id} ...`);
  let noDevice = false;
  try {
    const result = await followEvent({
      origin: o.url.origin,
      apiKey,
      eventId: o.id,
      notifications: o.count,
      timeoutMs: o.timeoutMs,
      onChange: (d: Delivery) => {
        if (d.status === "no_device") noDevice = true;
        say(`  ${describeDelivery(d)}`);
      },
    });
    const counts = Object.entries(result.summary)
      .map(([status, n]) => `${n} ${status}`)
      .join(", ");
    if (result.pending === 0) return { counts, noDevice };
    fail(`Still not settled after ${o.timeoutMs / 1000} s (${counts || "nothing recorded yet"}).`);
    fail(`Look again later: GET ${o.url.origin}/v1/events/${o.id}`);
  } catch (error) {
    if (error instanceof PollError && error.status === 401) {
      fail("The relay refused the API key for GET /v1/events (401): pass --api-key, or set RELAY_API_KEY in .dev.vars to the relay's.");
    } else {
      fail(error instanceof PollError ? error.message : describeFetchError(error, o.url));
    }
  }
  return null;
}

/** After a no_device: the command that registers the example device for this user. */
function suggestRegistration(o: Options, env: Env, apiKey: string, who: string): void {
  say("");
  say(`No device is registered for ${who}. Register one, then send again:`);
  // Only the public example key is printed; any other stays in the shell variable.
  const shownKey = o.apiKey === undefined && fromDevVars(env, "RELAY_API_KEY") === undefined ? apiKey : "$RELAY_API_KEY";
  const command = registerCommand({
    origin: o.url.origin,
    apiKey: shownKey,
    provider: "fcm",
    token: EXAMPLE_FCM_TOKEN,
    customId: o.customId,
    userId: o.userId,
  });
  for (const line of command.split("\n")) say(`  ${line}`);
}

/** The signed request of the example event; UsageError when the secret cannot sign. */
function signedExample(o: Options, env: Env): { headers: Record<string, string>; body: string; secretSource: string } {
  const secret = o.secret ?? firstOf(localValue(env, "LEARNINK_WEBHOOK_SECRET"));
  const secretSource = o.secret ? "--secret" : fromDevVars(env, "LEARNINK_WEBHOOK_SECRET") ? ".dev.vars" : ".dev.vars.example";
  if (!secret) throw new UsageError("No webhook secret: pass --secret whsec_... or set LEARNINK_WEBHOOK_SECRET in .dev.vars.");
  const body = JSON.stringify(exampleEvent(o));
  try {
    return { headers: signedHeaders(secret, o.id, body), body, secretSource };
  } catch (error) {
    throw new UsageError(`Cannot sign with this secret (${secretSource}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function main(): Promise<number> {
  const o = options();
  const env = readLocalEnv(ROOT);
  const { headers, body, secretSource } = signedExample(o, env);
  const who = o.customId ? `custom_id ${o.customId}` : `user_id ${o.userId}`;
  const what = o.type === "notifications.sent" ? `${o.count} notification${o.count > 1 ? "s" : ""} for ${who}` : o.type;
  say(`POST ${o.url.href}  svix-id ${o.id}  (${what}, signed with the secret from ${secretSource})`);

  const apiKey = o.apiKey ?? firstOf(localValue(env, "RELAY_API_KEY"));
  if (o.answer !== undefined) await prepareAnswers(o, apiKey);
  // What the ledger already holds for this svix-id: a repeat changes nothing, and says so.
  const before = o.type === "notifications.sent" && o.wait ? await settledBefore(o.url.origin, apiKey, o.id) : null;
  const sentAt = Date.now();
  let response: Response;
  try {
    response = await fetch(o.url, { method: "POST", headers, body });
  } catch (error) {
    fail(describeFetchError(error, o.url));
    return 1;
  }
  const text = await response.text();
  say(`← ${response.status} ${text}`);
  if (!response.ok) {
    for (const line of explainRejection(response.status, text, secretSource, o.url)) fail(line);
    return 1;
  }
  if (o.type !== "notifications.sent" || !o.wait) return 0;
  if (!apiKey) {
    fail("Not following the deliveries: no API key (pass --api-key or set RELAY_API_KEY in .dev.vars).");
    return 0;
  }
  const settled = await follow(o, apiKey);
  if (!settled) return 1;
  if (before) say(`Already delivered, nothing sent: svix-id ${o.id} was received before (${settled.counts}); the relay never sends a notification twice.`);
  else say(`Settled ${((Date.now() - sentAt) / 1000).toFixed(1)} s after sending: ${settled.counts}.`);
  if (settled.noDevice) suggestRegistration(o, env, apiKey, who);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    fail(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : String(error instanceof Error ? (error.stack ?? error) : error));
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
