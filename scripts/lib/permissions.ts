/**
 * The API token's permissions, in one list: docs/deploy-token.md shows the
 * same table (a test keeps the two in step), and a refused call (403) is
 * turned into one sentence naming the call and the permission it needs.
 */

export interface Permission {
  /** As the dashboard's token editor names it. */
  name: string;
  scope: "Account" | "User";
  /** What the deploy uses it for. */
  usedFor: string;
  /** When the token needs it. */
  needed: string;
  /** The API paths (below /accounts/:id, or the user-level path) it covers. */
  paths: RegExp;
}

export const PERMISSIONS: Permission[] = [
  { name: "Workers Scripts Edit", scope: "Account", usedFor: "upload the Worker, set its secrets, crons and workers.dev switch, read its versions and bindings", needed: "always", paths: /^\/accounts\/[^/]+\/workers\// },
  { name: "D1 Edit", scope: "Account", usedFor: "create the database `learnink-push-relay`, apply and read its migrations", needed: "always", paths: /^\/accounts\/[^/]+\/d1\// },
  { name: "Queues Edit", scope: "Account", usedFor: "create `learnink-push` and `learnink-push-dlq`, attach the Worker as their consumer, read the consumers' settings back", needed: "always", paths: /^\/accounts\/[^/]+\/queues/ },
  { name: "Account Settings Read", scope: "Account", usedFor: "read the account's own details (read-only; part of the template)", needed: "recommended: keep it from the template", paths: /^\/accounts(\/[^/]+)?$/ },
  { name: "Workers Tail Read", scope: "Account", usedFor: "`npx wrangler tail` (live logs)", needed: "only for `wrangler tail`", paths: /\/tails/ },
  { name: "User Details Read", scope: "User", usedFor: "find which accounts the token reaches", needed: "only when `CLOUDFLARE_ACCOUNT_ID` (or `account_id` in `wrangler.toml`) is unset", paths: /^\/user(\/|$)/ },
  { name: "Memberships Read", scope: "User", usedFor: "the same: pick the account", needed: "only when `CLOUDFLARE_ACCOUNT_ID` (or `account_id`) is unset", paths: /^\/memberships/ },
];

/** The permissions table as docs/deploy-token.md shows it (a test keeps the page equal to it). */
export function permissionsTable(): string[] {
  return [
    "| Scope | Permission | What the deploy uses it for | Needed |",
    "|---|---|---|---|",
    ...PERMISSIONS.map((p) => `| ${p.scope} | ${p.name} | ${p.usedFor} | ${p.needed} |`),
  ];
}

/** The permission a call to `path` needs, or null for a path this list does not know. */
export function permissionFor(path: string): Permission | null {
  const bare = path.replace(/^\/client\/v4/, "").split("?")[0] ?? path;
  return PERMISSIONS.find((p) => p.paths.test(bare)) ?? null;
}

/** Where the token's permissions are explained. */
export const TOKEN_DOC = "docs/deploy-token.md";

/** The one sentence a refused call ends the run with. */
export function refusalSentence(call: string, path: string): string {
  const permission = permissionFor(path);
  const needs = permission ? `the API token needs ${permission.scope} · ${permission.name}` : "the API token lacks a permission this call needs";
  return `Cloudflare refused ${call} (403): ${needs} (see ${TOKEN_DOC}).`;
}

/**
 * A refused call in wrangler's output: it prints "A request to the
 * Cloudflare API (/accounts/…/d1/database) failed." and the API's error,
 * which for a token without the permission is "Authentication error
 * [code: 10000]" (HTTP 403). The path, or null when the output is not that.
 */
export function refusedPathInWranglerOutput(output: string): string | null {
  if (!/\[code: 10000\]/.test(output)) return null;
  return /A request to the Cloudflare API \(([^)\s]+)\) failed/.exec(output)?.[1] ?? null;
}
