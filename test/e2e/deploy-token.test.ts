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
import { hasMorePages, retryAfterSeconds } from "../../scripts/lib/cloudflare-api.ts";
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
