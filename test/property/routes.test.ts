/**
 * Property: arbitrary methods, paths, headers and bodies on every route,
 * with and without credentials. No answer is a 5xx; no answer carries a
 * registered device token (except an admin's successful read, which is
 * what the read routes are for) or any secret of the relay; and a request
 * without the right credential changes no device. Seeded and bounded
 * (test/support/property.ts).
 */
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { deviceToken, REGISTER_KEY } from "../support/device-tokens";
import { registerDevice } from "../support/delivery";
import { holds, hostileString, PROPERTY_TIMEOUT_MS } from "../support/property";
import { API_KEY, RELAY, fcmToken, svixHeaders, uniqueId } from "../support/webhook";

const OWNER = uniqueId("prop-owner");
const TOKENS = [fcmToken(), fcmToken()];
/** Every secret value the relay holds: none may ever be in an answer. */
const SECRETS = [env.RELAY_API_KEY, env.RELAY_REGISTER_KEY, env.DEVICE_TOKEN_SECRET, env.LEARNINK_WEBHOOK_SECRET]
  .flatMap((value) => value.split(" "))
  .map((value) => value.replace(/^whsec_/, ""));
let ownerDeviceToken = "";

beforeAll(async () => {
  for (const token of TOKENS) await registerDevice({ provider: "fcm", token, custom_id: OWNER });
  ownerDeviceToken = await deviceToken({ sub: OWNER });
});

type CredentialKind = "none" | "wrong key" | "a device's push token" | "admin" | "register" | "device";
/** Credentials that may change nothing at all. */
const POWERLESS = new Set<CredentialKind>(["none", "wrong key", "a device's push token"]);

function bearer(kind: CredentialKind): string | null {
  const values: Record<CredentialKind, string | null> = {
    none: null,
    "wrong key": "not-a-key-of-this-relay",
    "a device's push token": TOKENS[0]!,
    admin: API_KEY,
    register: REGISTER_KEY,
    device: ownerDeviceToken,
  };
  return values[kind];
}

/** A path segment: a registered token, an id, a hostile string (encoded as a client would), or raw bad escapes. */
const segmentArb = fc.oneof(
  fc.constantFrom(...TOKENS, OWNER, "restore", "confirm-removal", "devices", "..", "%ED%A0%80", "%zz", "%00"),
  hostileString(12).map((s) => encodeURIComponent(s.toWellFormed())),
);

const PATTERNS = [...new Set(app.routes.map((r) => r.path).filter((p) => !p.includes("*"))), "/", "/v1", "/admin/nope"];

const pathArb = fc.oneof(
  fc
    .tuple(fc.constantFrom(...PATTERNS), fc.array(segmentArb, { minLength: 4, maxLength: 4 }), fc.option(segmentArb))
    .map(([pattern, fills, suffix]) => {
      let k = 0;
      return pattern.replace(/:[^/]+/g, () => fills[k++ % fills.length]!) + (suffix === null ? "" : `/${suffix}`);
    }),
  fc.array(segmentArb, { minLength: 1, maxLength: 4 }).map((segments) => `/${segments.join("/")}`),
);

const queryArb = fc.option(
  fc.array(fc.tuple(fc.constantFrom("token", "Token%20", "token[]", "q", "cursor", "limit", "by", "status", "id"), segmentArb), { maxLength: 3 }).map(
    (pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`,
  ),
);

/** Header values are bytes: ASCII pieces, a registered token among them. */
const headerValueArb = fc.oneof(fc.constantFrom(...TOKENS, "application/json", "application/x-www-form-urlencoded", "text/plain"), fc.string({ unit: "grapheme-ascii", maxLength: 30 }));

const bodyArb = fc.oneof(
  fc.constant(undefined),
  hostileString(50).map((s) => s.toWellFormed()),
  fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
  fc.record({ token: fc.constantFrom(...TOKENS), custom_id: fc.constantFrom(OWNER, "someone-else"), provider: fc.constantFrom("fcm", "apns", "x") }).map((v) => JSON.stringify(v)),
  fc.constantFrom(...TOKENS).map((t) => `device=${t}&token=${t}&key=${t}&next=/admin`),
  fc.constant("x".repeat(70_000)),
);

const requestArb = fc.record({
  method: fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
  path: pathArb,
  query: queryArb,
  credential: fc.constantFrom<CredentialKind>("none", "wrong key", "a device's push token", "admin", "register", "device"),
  headers: fc.dictionary(fc.constantFrom("x-device", "cookie", "content-type", "origin", "svix-id", "svix-signature", "svix-timestamp"), headerValueArb, { maxKeys: 3 }),
  body: bodyArb,
  signed: fc.boolean(),
});

type Generated = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

let client = 0;
function toRequest(generated: Generated): Request {
  const headers = new Headers(generated.headers);
  const key = bearer(generated.credential);
  if (key !== null) headers.set("authorization", `Bearer ${key}`);
  // Each request from an address of its own: the failed-authentication limit would otherwise answer 429 to the rest.
  headers.set("cf-connecting-ip", `10.${(client >> 16) & 255}.${(client >> 8) & 255}.${client++ & 255}`);
  const body = generated.method === "GET" || generated.method === "HEAD" ? undefined : generated.body;
  // A real signature over another body: it must not be taken for this one.
  if (generated.signed) for (const [name, value] of Object.entries(svixHeaders("{}"))) headers.set(name, value);
  return new Request(`${RELAY}${generated.path}${generated.query ?? ""}`, { method: generated.method, headers, body, redirect: "manual" });
}

/** What the devices table holds: a request without the right credential must leave it as it was. */
async function deviceState(): Promise<string> {
  const { results } = await env.DB.prepare("SELECT token, custom_id, user_id, app, quarantined_at, updated_at FROM devices ORDER BY token").all();
  return JSON.stringify(results);
}

/** The answer's headers and body; the sign-in redirect's `Location` returns the browser to the page it asked for. */
async function answerText(response: Response): Promise<string> {
  const headers = [...response.headers].filter(([name]) => !(response.status === 303 && name === "location"));
  return `${headers.map(([n, v]) => `${n}: ${v}`).join("\n")}\n${await response.text()}`;
}

describe("property: arbitrary requests on every route", () => {
  it("never a 5xx, never a token or secret quoted, no change without the right credential", async () => {
    await holds(
      fc.asyncProperty(requestArb, async (generated) => {
        const before = POWERLESS.has(generated.credential) ? await deviceState() : null;
        const response = await exports.default.fetch(toRequest(generated));
        const text = await answerText(response);
        expect(response.status, text).toBeLessThan(500);
        for (const secret of SECRETS) expect(text.includes(secret), "a secret in the answer").toBe(false);
        const adminRead = generated.credential === "admin" && response.status < 300;
        if (!adminRead) for (const token of TOKENS) expect(text.includes(token), `a registered token in a ${response.status}`).toBe(false);
        if (before !== null) expect(await deviceState()).toBe(before);
      }),
      150,
    );
  }, PROPERTY_TIMEOUT_MS);
});
