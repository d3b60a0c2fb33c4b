/**
 * The stand-ins' control API under `/__standin/`: what tests and the
 * benchmark use to read what was pushed, script a device's next answers,
 * inject random faults, register their own credentials (service accounts,
 * APNs keys, Expo access tokens, OneSignal apps and users), and read counters.
 */
import { AccessKeys } from "./access.ts";
import type { StandinContext } from "./context.ts";
import { failRateProblem } from "./faults.ts";
import { json, type Answer } from "./http.ts";
import { hmsAppProblem } from "./hms-apps.ts";
import { appRegistrationProblem, usersProblem } from "./onesignal-apps.ts";
import { scriptProblem } from "./presets.ts";
import type {
  AccessKeyRegistration,
  ApnsKeyRegistration,
  ExpoSecurity,
  FailRateConfig,
  HmsAppRegistration,
  OneSignalAppRegistration,
  OneSignalUsers,
  PushFilter,
  PushProviderName,
  ScriptedResponse,
  ServiceAccountRegistration,
} from "./types.ts";

const PROVIDERS: readonly PushProviderName[] = ["fcm", "apns", "expo", "onesignal", "hms"];

type Json = Record<string, unknown>;

const ok = () => json(200, { ok: true });
const badRequest = (error: string) => json(400, { error });

function parse(body: Buffer): Json | null {
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}

function optional(query: URLSearchParams, name: string): string | undefined {
  return query.get(name) ?? undefined;
}

function isJwk(value: unknown): value is Json {
  return typeof value === "object" && value !== null && typeof (value as Json).kty === "string";
}

function script(context: StandinContext, body: Json): Answer {
  const { token, responses } = body;
  if (typeof token !== "string" || token === "") return badRequest("token must be a non-empty string");
  if (!Array.isArray(responses)) return badRequest("responses must be a list");
  for (const response of responses) {
    const problem = scriptProblem(response);
    if (problem) return badRequest(problem);
  }
  if (responses.length === 0) context.scripts.delete(token);
  else context.scripts.set(token, [...(responses as ScriptedResponse[])]);
  return ok();
}

async function registerServiceAccount(context: StandinContext, body: Json): Promise<Answer> {
  const { client_email, project_id, public_jwk, private_key_id, token_ttl_seconds } = body;
  if (typeof client_email !== "string" || typeof project_id !== "string" || !isJwk(public_jwk)) {
    return badRequest("client_email, project_id and public_jwk are required");
  }
  if (private_key_id !== undefined && typeof private_key_id !== "string") return badRequest("private_key_id must be a string");
  if (token_ttl_seconds !== undefined && (typeof token_ttl_seconds !== "number" || token_ttl_seconds <= 0)) {
    return badRequest("token_ttl_seconds must be a positive number");
  }
  try {
    await context.credentials.addServiceAccount(body as unknown as ServiceAccountRegistration);
  } catch (error) {
    return badRequest(`public_jwk is not an RS256 key: ${String(error)}`);
  }
  return ok();
}

async function registerApnsKey(context: StandinContext, body: Json): Promise<Answer> {
  const { key_id, team_id, topic, public_jwk } = body;
  if (typeof key_id !== "string" || typeof team_id !== "string" || typeof topic !== "string" || !isJwk(public_jwk)) {
    return badRequest("key_id, team_id, topic and public_jwk are required");
  }
  try {
    await context.credentials.addApnsKey(body as unknown as ApnsKeyRegistration);
  } catch (error) {
    return badRequest(`public_jwk is not an ES256 key: ${String(error)}`);
  }
  return ok();
}

function pushFilter(query: URLSearchParams): PushFilter | null {
  const provider = optional(query, "provider");
  if (provider !== undefined && !(PROVIDERS as readonly string[]).includes(provider)) return null;
  return { token: optional(query, "token"), event_id: optional(query, "event_id"), provider: provider as PushProviderName | undefined };
}

/** Handles `/__standin/<action>`. */
export async function handleControl(
  context: StandinContext,
  method: string,
  action: string,
  query: URLSearchParams,
  raw: Buffer,
): Promise<Answer> {
  if (method === "GET") {
    switch (action) {
      case "pushes": {
        const filter = pushFilter(query);
        return filter ? json(200, { pushes: context.records.pushes(filter) }) : badRequest(`provider must be one of ${PROVIDERS.join(", ")}`);
      }
      case "requests":
        return json(200, { requests: context.records.requests(optional(query, "token"), optional(query, "event_id")) });
      case "stats":
        return json(
          200,
          context.records.stats(context.credentials, {
            client_email: optional(query, "client_email"),
            key_id: optional(query, "key_id"),
            access_token: optional(query, "access_token"),
            app_id: optional(query, "app_id"),
          }),
        );
    }
    return json(404, { error: `no control route GET /__standin/${action}` });
  }
  if (method !== "POST") return json(405, { error: "GET or POST" });
  if (action === "reset") {
    context.records.clear();
    context.scripts.clear();
    context.faults.clear();
    return ok();
  }
  const body = parse(raw);
  if (!body) return badRequest("the body must be a JSON object");
  switch (action) {
    case "script":
      return script(context, body);
    case "fail-rate": {
      const problem = failRateProblem(body);
      if (problem) return badRequest(problem);
      context.faults.configure(body as unknown as FailRateConfig);
      return ok();
    }
    case "service-accounts":
      return registerServiceAccount(context, body);
    case "apns-keys":
      return registerApnsKey(context, body);
    case "expo-access-tokens": {
      if (typeof body.access_token !== "string" || body.access_token === "") return badRequest("access_token must be a non-empty string");
      context.credentials.expoAccessTokens.add(body.access_token);
      return ok();
    }
    case "expo-security": {
      const { token_prefix, required } = body as Partial<ExpoSecurity>;
      if (typeof token_prefix !== "string" || token_prefix === "" || typeof required !== "boolean") {
        return badRequest("token_prefix (a non-empty string) and required (a boolean) are required");
      }
      if (required) context.credentials.expoSecuredPrefixes.add(token_prefix);
      else context.credentials.expoSecuredPrefixes.delete(token_prefix);
      return ok();
    }
    case "onesignal-apps": {
      const problem = appRegistrationProblem(body);
      if (problem) return badRequest(problem);
      context.onesignal.add(body as unknown as OneSignalAppRegistration);
      return ok();
    }
    case "onesignal-users": {
      const problem = usersProblem(body);
      if (problem) return badRequest(problem);
      if (!context.onesignal.setUsers(body as unknown as OneSignalUsers)) return badRequest("no such app_id: register it first");
      return ok();
    }
    case "hms-apps": {
      const problem = hmsAppProblem(body);
      if (problem) return badRequest(problem);
      context.hms.add(body as unknown as HmsAppRegistration);
      return ok();
    }
    case "access-keys": {
      const problem = AccessKeys.problem(body);
      if (problem) return badRequest(problem);
      context.accessKeys.add(body as unknown as AccessKeyRegistration);
      return ok();
    }
  }
  return json(404, { error: `no control route POST /__standin/${action}` });
}
