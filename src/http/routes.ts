/**
 * What the router knows about a request it could not serve: whether the
 * path is a known route's under another method (405, with `Allow`) or no
 * route at all (404). The answer names the route's pattern, never the
 * path as sent: a path can hold a device token.
 */
import type { RouterRoute } from "hono/types";
import { MethodNotAllowedError, NotFoundError, type RelayError } from "../errors";
import { methodName } from "./errors";

interface Pattern {
  path: string;
  methods: Set<string>;
  test: RegExp;
}

/** `/v1/devices/:token` as a regular expression; `:name` is one segment. */
function patternRegExp(path: string): RegExp {
  const escaped = path
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${escaped}$`);
}

/** The routes' patterns with their methods; middleware (`*` paths, method ALL) is left out. */
export function routePatterns(routes: readonly RouterRoute[], prefix = ""): Pattern[] {
  const byPath = new Map<string, Pattern>();
  for (const route of routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    const path = `${prefix}${route.path}`.replace(/\/+$/, "") || "/";
    const pattern = byPath.get(path) ?? { path, methods: new Set<string>(), test: patternRegExp(path) };
    pattern.methods.add(route.method);
    if (route.method === "GET") pattern.methods.add("HEAD");
    byPath.set(path, pattern);
  }
  return [...byPath.values()];
}

/** The error for `method` on `path`, which no route served: 405 naming the pattern, or 404. */
export function unservedRoute(patterns: readonly Pattern[], method: string, path: string): RelayError {
  const known = patterns.filter((p) => p.test.test(path));
  if (known.length === 0) return new NotFoundError(`no route for ${methodName(method)} on this path`);
  const allowed = [...new Set(known.flatMap((p) => [...p.methods]))].sort();
  const named = known.map((p) => p.path).join(", ");
  return new MethodNotAllowedError(`${methodName(method)} is not allowed on ${named}; allowed: ${allowed.join(", ")}`, allowed);
}
