/**
 * What the deploy says about the API token and how it reads the API, as
 * tables: the permission each call needs (the sentence a 403 ends with,
 * from the deploy's own reads and from wrangler's output), the docs page
 * that lists the permissions (equal to scripts/lib/permissions.ts, linked
 * from the README), Retry-After and result_info as the client reads them.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CloudflareApiError, CloudflareUnreachable, cloudflareApi, hasMorePages, retryAfterSeconds } from "../../scripts/lib/cloudflare-api.ts";
import { TOKEN_DOC, permissionFor, permissionsTable, refusalSentence, refusedPathInWranglerOutput } from "../../scripts/lib/permissions.ts";
import { REPO } from "./support/local-run.js";

const ACCOUNT = "/accounts/0123456789abcdef0123456789abcdef";

describe("the permission a call needs", () => {
  it.each([
    [`${ACCOUNT}/d1/database/learnink-push-relay`, "D1 Edit"],
    [`${ACCOUNT}/d1/database/uuid/query`, "D1 Edit"],
    [`${ACCOUNT}/queues`, "Queues Edit"],
    [`${ACCOUNT}/queues/abc/consumers`, "Queues Edit"],
    [`${ACCOUNT}/workers/scripts/learnink-push-relay/schedules`, "Workers Scripts Edit"],
    [`${ACCOUNT}/workers/subdomain`, "Workers Scripts Edit"],
    ["/memberships", "Memberships Read"],
    ["/user", "User Details Read"],
    ["/client/v4/user/tokens/verify", "User Details Read"],
  ])("%s: %s", (path, name) => {
    expect(permissionFor(path)?.name).toBe(name);
  });

  it("says it in one sentence, naming the call", () => {
    const sentence = refusalSentence(`GET ${ACCOUNT}/d1/database/x`, `${ACCOUNT}/d1/database/x`);
    expect(sentence).toBe(`Cloudflare refused GET ${ACCOUNT}/d1/database/x (403): the API token needs Account · D1 Edit (see ${TOKEN_DOC}).`);
    expect(sentence.split(". ")).toHaveLength(1);
  });

  it("finds a refused call in wrangler's output, and nothing in other failures", () => {
    const refused = `✘ [ERROR] A request to the Cloudflare API (${ACCOUNT}/queues) failed.\n\n  Authentication error [code: 10000]\n`;
    expect(refusedPathInWranglerOutput(refused)).toBe(`${ACCOUNT}/queues`);
    expect(refusedPathInWranglerOutput(`✘ [ERROR] A request to the Cloudflare API (${ACCOUNT}/queues) failed.\n\n  Internal error [code: 10001]\n`)).toBeNull();
  });
});

describe(TOKEN_DOC, () => {
  it("shows exactly the permissions table the deploy names, and the README links it", async () => {
    const page = await readFile(join(REPO, TOKEN_DOC), "utf8");
    expect(page).toContain(permissionsTable().join("\n"));
    expect(page).toContain("Edit Cloudflare Workers");
    const readme = await readFile(join(REPO, "README.md"), "utf8");
    expect(readme).toContain(`(${TOKEN_DOC})`);
  });
});

describe("reading the API", () => {
  it.each<[string | null, number]>([
    ["1", 1],
    ["0", 0],
    [null, 1],
    [new Date(Date.UTC(2026, 0, 1, 0, 0, 30)).toUTCString(), 30],
    ["soon", 1],
  ])("Retry-After %j waits %d s", (header, seconds) => {
    expect(retryAfterSeconds(header, Date.UTC(2026, 0, 1))).toBe(seconds);
  });

  it.each<[string, Parameters<typeof hasMorePages>, boolean]>([
    ["total_pages says more", [{ page: 1, per_page: 2, total_pages: 3 }, 1, 2, 2], true],
    ["total_pages says last", [{ page: 3, per_page: 2, total_pages: 3 }, 3, 6, 2], false],
    ["total_count not reached", [{ page: 1, per_page: 50, count: 50, total_count: 61 }, 1, 50, 50], true],
    ["total_count reached", [{ page: 2, per_page: 50, count: 11, total_count: 61 }, 2, 61, 11], false],
    ["only per_page, a full page", [{ page: 1, per_page: 10 }, 1, 10, 10], true],
    ["only per_page, a short page", [{ page: 2, per_page: 10 }, 2, 14, 4], false],
    ["no result_info (a single page)", [undefined, 1, 4, 4], false],
    ["an empty page ends it whatever the info says", [{ page: 2, per_page: 10, total_count: 99 }, 2, 10, 0], false],
  ])("%s", (_, args, more) => {
    expect(hasMorePages(...args)).toBe(more);
  });
});

/** A fetch that answers from a list of [status, body, headers] in turn, and records the URLs asked. */
function scripted(answers: [number, unknown, Record<string, string>?][]) {
  const urls: URL[] = [];
  const doFetch = (async (input: URL | string) => {
    urls.push(new URL(String(input)));
    const [status, body, headers] = answers.shift() ?? [500, { success: false, errors: [{ code: 1, message: "no more answers" }] }];
    return new Response(JSON.stringify(body), { status, headers: headers ?? {} });
  }) as typeof fetch;
  const waits: string[] = [];
  return { urls, waits, api: cloudflareApi({ type: "api_token", token: "t" }, "http://api.test/client/v4", doFetch, (line) => waits.push(line)) };
}

const ok = (result: unknown, resultInfo?: Record<string, number>) => ({ success: true, errors: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) });

describe("the API client", () => {
  it("reads every page of a list", async () => {
    const { urls, api } = scripted([
      [200, ok({ items: [{ id: "a" }, { id: "b" }] }, { page: 1, per_page: 2, count: 2, total_count: 3 })],
      [200, ok({ items: [{ id: "c" }] }, { page: 2, per_page: 2, count: 1, total_count: 3 })],
    ]);
    const items = await api.list<{ id: string }>("/versions", { query: { per_page: "2" }, items: (r) => (r as { items: { id: string }[] }).items });
    expect(items.map((v) => v.id)).toEqual(["a", "b", "c"]);
    expect(urls.map((u) => u.searchParams.get("page"))).toEqual(["1", "2"]);
  });

  it("waits out a 429 and asks again", async () => {
    const { urls, waits, api } = scripted([
      [429, { success: false, errors: [{ code: 971, message: "slow down" }] }, { "retry-after": "0" }],
      [200, ok({ schedules: [] })],
    ]);
    expect(await api.get("/schedules")).toEqual({ schedules: [] });
    expect(urls).toHaveLength(2);
    expect(waits).toEqual(["  (the API asks to slow down: waiting 0 s before GET /schedules again)"]);
  });

  it("gives up on a 429 that keeps coming, as an API error", async () => {
    const limited: [number, unknown, Record<string, string>] = [429, { success: false, errors: [{ code: 971, message: "slow down" }] }, { "retry-after": "0" }];
    const { api } = scripted([limited, limited, limited, limited, limited]);
    await expect(api.get("/schedules")).rejects.toMatchObject({ status: 429, code: 971 });
  });

  it("names the call of a failure, and a network failure in a sentence", async () => {
    const { api } = scripted([[403, { success: false, errors: [{ code: 10000, message: "Authentication error" }] }]]);
    const error = await api.get("/accounts/x/d1/database/db").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudflareApiError);
    expect(error).toMatchObject({ method: "GET", path: "/accounts/x/d1/database/db", status: 403, code: 10000 });
    const down = cloudflareApi({ type: "api_token", token: "t" }, "http://api.test", (async () => {
      throw new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") });
    }) as typeof fetch);
    await expect(down.get("/x")).rejects.toBeInstanceOf(CloudflareUnreachable);
  });
});
