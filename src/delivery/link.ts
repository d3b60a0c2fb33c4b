/**
 * The tap link the app opens in its WebView. It never carries a sign-in
 * token: the app fetches a fresh one from its own backend on tap.
 */

/** https://m.learn.ink/{orgId}{path}?webview=true, keeping any query the path has. */
export function tapLink(orgId: string, path: string): string {
  const url = new URL(`https://m.learn.ink/${encodeURIComponent(orgId)}${path}`);
  url.searchParams.set("webview", "true");
  return url.toString();
}
