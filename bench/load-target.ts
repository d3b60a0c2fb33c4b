/**
 * What the load test drives: a relay that is already running (by default
 * the local `npm start` one, with the secrets it was started with), or,
 * with `--self`, the bench's own relay in workerd.
 */
import { firstOf, localValue, readLocalEnv } from "../scripts/lib/local-env.ts";
import { DEFAULT_HOST, DEFAULT_PORT } from "../scripts/lib/project.ts";
import { ROOT, startLocalRelay } from "./harness.ts";

export interface LoadTarget {
  url: string;
  secret: string;
  apiKey: string;
  standinUrl: string;
  /** What it is, for the summary. */
  description: string;
  close(): Promise<void>;
}

export interface TargetOptions {
  self: boolean;
  url?: string;
  secret?: string;
  apiKey?: string;
  standinUrl?: string;
}

export const DEFAULT_RELAY_URL = `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;

export async function openTarget(options: TargetOptions): Promise<LoadTarget> {
  if (options.self) {
    const relay = await startLocalRelay({ quiet: true });
    return {
      url: relay.url,
      secret: relay.secret,
      apiKey: relay.apiKey,
      standinUrl: relay.standinUrl,
      description: `the bench's relay in workerd ${relay.versions.workerd} (wrangler.toml settings, stand-ins)`,
      close: () => relay.close(),
    };
  }
  if (!options.standinUrl) {
    throw new Error(
      "--standin-url is required for a running relay: the stand-ins' address is in the banner `npm start` prints " +
        '("FCM stand-in at http://127.0.0.1:PORT"); start it with --standins-port to fix the port.',
    );
  }
  // The secrets `npm start` runs with: .dev.vars first, then .dev.vars.example.
  const env = readLocalEnv(ROOT);
  const secret = options.secret ?? firstOf(localValue(env, "LEARNINK_WEBHOOK_SECRET"));
  const apiKey = options.apiKey ?? firstOf(localValue(env, "RELAY_API_KEY"));
  if (!secret || !apiKey) throw new Error("no webhook secret or API key: pass --secret and --api-key, or set them in .dev.vars");
  const url = (options.url ?? DEFAULT_RELAY_URL).replace(/\/$/, "");
  return {
    url,
    secret,
    apiKey,
    standinUrl: options.standinUrl.replace(/\/$/, ""),
    description: `the relay at ${url}`,
    close: async () => {},
  };
}
