/**
 * The console behind Cloudflare Access: the `Cf-Access-Jwt-Assertion` is
 * verified against the team's keys (a stand-in JWKS serving keys generated
 * here) and the application's audience tag, on every request; the
 * console's own sign-in is off.
 */
import { env } from "cloudflare:workers";
import { type CryptoKey, SignJWT, exportJWK, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { teamOrigin } from "../../src/admin/access";
import { ConsoleClient } from "../support/console";
import { captureLogs } from "../support/logs";
import { registerAccessKey } from "../support/standins";

const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
let team: string;
let signing: { key: CryptoKey; kid: string };
let stranger: { key: CryptoKey; kid: string };

async function keyPair(register: boolean) {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const kid = crypto.randomUUID();
  if (register) await registerAccessKey({ public_jwk: { ...(await exportJWK(publicKey)), kid } });
  return { key: privateKey, kid };
}

beforeAll(async () => {
  team = env.STANDIN_URL;
  [signing, stranger] = await Promise.all([keyPair(true), keyPair(false)]);
});

function accessToken(
  overrides: { aud?: string; iss?: string; exp?: number; email?: string | null; key?: { key: CryptoKey; kid: string } } = {},
) {
  const { key, kid } = overrides.key ?? signing;
  const claims: Record<string, unknown> = { type: "app", identity_nonce: "n0nce" };
  if (overrides.email !== null) claims.email = overrides.email ?? "ops@example.com";
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid })
    .setIssuer(overrides.iss ?? team)
    .setAudience(overrides.aud ?? AUD)
    .setSubject("7335d417-61da-459d-899c-0a01c76a2f94")
    .setIssuedAt()
    .setExpirationTime(overrides.exp ?? Math.floor(Date.now() / 1000) + 3600)
    .sign(key);
}

const behindAccess = () => new ConsoleClient({ ACCESS_TEAM_DOMAIN: team, ACCESS_AUD: AUD });

describe("the console behind Cloudflare Access", () => {
  it("shows a verified Access user who is signed in", async () => {
    const { status, html } = await behindAccess().page("/admin", { headers: { "cf-access-jwt-assertion": await accessToken() } });
    expect(status).toBe(200);
    expect(html).toContain("ops@example.com (Cloudflare Access)");
    expect(html).toContain('href="/cdn-cgi/access/logout"');
  });

  it("names a service token by its subject", async () => {
    const { html } = await behindAccess().page("/admin", { headers: { "cf-access-jwt-assertion": await accessToken({ email: null }) } });
    expect(html).toContain("7335d417-61da-459d-899c-0a01c76a2f94 (Cloudflare Access)");
  });

  it("refuses a request without a valid Access token for this application", async () => {
    const now = Math.floor(Date.now() / 1000);
    const refused = [
      undefined,
      "not-a-jwt",
      await accessToken({ aud: "another-application" }),
      await accessToken({ iss: "https://someone-else.cloudflareaccess.com" }),
      await accessToken({ exp: now - 60 }),
      await accessToken({ key: stranger }),
      // Same claims under HS256 with a guessable key: the algorithm is pinned to RS256.
      await new SignJWT({ email: "ops@example.com" })
        .setProtectedHeader({ alg: "HS256", kid: signing.kid })
        .setIssuer(team)
        .setAudience(AUD)
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(AUD)),
    ];
    for (const token of refused) {
      const { status, html } = await behindAccess().page("/admin", { headers: token ? { "cf-access-jwt-assertion": token } : {} });
      expect(status, token).toBe(401);
      expect(html).toContain('data-code="unauthorized"');
      expect(html).not.toContain("ops@example.com");
    }
  });

  it("takes no admin key or console session instead", async () => {
    const browser = behindAccess();
    expect((await browser.fetch("/admin/login")).headers.get("location")).toBe("/admin");
    // A session opened on the same relay before Access was configured is worth nothing now.
    const before = new ConsoleClient();
    await before.signIn();
    for (const [name, value] of before.cookies) browser.cookies.set(name, value);
    expect((await browser.fetch("/admin")).status).toBe(401);
    const login = await browser.post("/admin/login", { key: "test-key-1" }, { csrf: before.csrf! });
    expect(login.headers.get("location")).toBe("/admin");
    expect(login.headers.getSetCookie().some((c) => c.startsWith("__Host-relay_console="))).toBe(false);
  });

  it("still wants the CSRF token on forms", async () => {
    const browser = behindAccess();
    const headers = { "cf-access-jwt-assertion": await accessToken() };
    await browser.page("/admin", { headers });
    const response = await browser.fetch("/admin/logout", {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body: "_csrf=wrong",
    });
    expect(response.status).toBe(403);
  });
});

describe("ACCESS_TEAM_DOMAIN", () => {
  it.each([
    ["myteam.cloudflareaccess.com", "https://myteam.cloudflareaccess.com"],
    ["https://myteam.cloudflareaccess.com/", "https://myteam.cloudflareaccess.com"],
    [" myteam.cloudflareaccess.com ", "https://myteam.cloudflareaccess.com"],
    ["http://127.0.0.1:9999", "http://127.0.0.1:9999"],
    ["http://localhost:9999", "http://localhost:9999"],
  ])("%j is the team %s", (setting, origin) => {
    expect(teamOrigin(setting)).toBe(origin);
  });

  it.each(["http://myteam.cloudflareaccess.com", "https://myteam.cloudflareaccess.com/cdn-cgi/access/certs", "https://user@x.example", "ftp://x", "http://10.0.0.1:8080"])(
    "refuses %j: certificates come over https, or from a loopback test server",
    (setting) => {
      expect(() => teamOrigin(setting)).toThrow(expect.objectContaining({ code: "not_configured" }));
    },
  );
});

describe("half an Access configuration", () => {
  it.each([
    ["only ACCESS_TEAM_DOMAIN", { ACCESS_TEAM_DOMAIN: "myteam.cloudflareaccess.com", ACCESS_AUD: "" }, "ACCESS_AUD"],
    ["only ACCESS_AUD", { ACCESS_TEAM_DOMAIN: "", ACCESS_AUD: AUD }, "ACCESS_TEAM_DOMAIN"],
  ])("with %s is refused (500 not_configured), never the key form; the log names what is missing", async (_label, settings, missing) => {
    const logs = captureLogs();
    const browser = new ConsoleClient(settings);
    const pages = [await browser.page("/admin/login"), await browser.page("/admin")];
    logs.stop();
    for (const { status, html } of pages) {
      expect(status).toBe(500);
      expect(html).toContain('data-code="not_configured"');
      expect(html).not.toContain('name="key"');
      expect(html).not.toContain(missing);
    }
    expect(logs.lines().find((l) => l.event === "not_configured")?.setting).toContain(missing);
  });
});
