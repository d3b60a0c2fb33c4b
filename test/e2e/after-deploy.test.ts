/**
 * The settings check `npm run deploy` runs after a verified deploy
 * (scripts/lib/after-deploy.ts), against a local server standing in for
 * the deployed Worker's `POST /v1/check`: it prints each provider's
 * answer, turns a refusal, a wrong key or an unreachable Worker into a
 * warning with the fix, and without a key says how to run it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { afterVerifiedDeploy, type VerifiedDeploy } from "../../scripts/lib/after-deploy.ts";
import type { DeployConfig } from "../../scripts/lib/deploy-plan.ts";

const KEY = "admin-key-for-the-check";
let server: Server;
let origin: string;
let answer: { ok: boolean; checks: unknown[] } = { ok: true, checks: [] };
const seen: { method: string; url: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ method: request.method ?? "", url: request.url ?? "", authorization: request.headers.authorization });
    const status = request.headers.authorization === `Bearer ${KEY}` ? 200 : 401;
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(status === 200 ? answer : { error: { code: "unauthorized", message: "..." } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(env: Record<string, string | undefined>, secrets = ["RELAY_API_KEY"], at = origin): Promise<string> {
  const lines: string[] = [];
  const deploy: VerifiedDeploy = { config: {} as DeployConfig, accountId: "acc", origin: at, secrets: new Set(secrets) };
  await afterVerifiedDeploy(deploy, { env, say: (line = "") => lines.push(line), timeoutMs: 2_000 });
  return lines.join("\n");
}

describe("the settings check after a deploy", () => {
  it("posts to /v1/check with RELAY_API_KEY from the environment (the first key) and prints each answer", async () => {
    answer = { ok: true, checks: [{ app: "default", provider: "fcm", ok: true, detail: "FCM accepts service account a@p in project p." }] };
    const output = await run({ RELAY_API_KEY: `${KEY} another-key` });
    expect(seen.at(-1)).toEqual({ method: "POST", url: "/v1/check", authorization: `Bearer ${KEY}` });
    expect(output).toContain("  ok      default/fcm: FCM accepts service account a@p in project p.");
    expect(output).toContain("Every configured provider accepts the settings.");
    expect(output).not.toContain("Warning");
  });

  it("turns a refusal into a warning with the fix", async () => {
    answer = { ok: false, checks: [{ app: "default", provider: "apns", ok: false, detail: "APNs refuses topic com.example.app for team ABC123 (TopicDisallowed): is APNS_TOPIC the app's bundle id?" }] };
    const output = await run({ RELAY_API_KEY: KEY });
    expect(output).toContain("  REFUSED default/apns: APNs refuses topic com.example.app for team ABC123");
    expect(output).toContain("Warning: some settings are refused (the deploy itself succeeded)");
    expect(output).toContain(`curl -sS -X POST -H "Authorization: Bearer $RELAY_API_KEY" ${origin}/v1/check`);
  });

  it("warns when the key is not the Worker's, or the Worker cannot be reached", async () => {
    expect(await run({ RELAY_API_KEY: "not-the-key" })).toContain("Warning: the check did not run: RELAY_API_KEY in your shell is not one of the Worker's admin keys (401)");
    const unreachable = await run({ RELAY_API_KEY: KEY }, ["RELAY_API_KEY"], "http://127.0.0.1:9");
    expect(unreachable).toContain("Warning: the Worker at http://127.0.0.1:9 could not be reached");
    expect(unreachable).toContain("The deploy itself succeeded");
  });

  it("without a key in the environment, or on the Worker, says how to run it and calls nothing", async () => {
    const before = seen.length;
    expect(await run({})).toContain("Skipped: the admin key is a secret this script cannot read back");
    expect(await run({ RELAY_API_KEY: KEY }, [])).toContain("Skipped: the Worker has no RELAY_API_KEY yet");
    expect(seen.length).toBe(before);
  });
});
