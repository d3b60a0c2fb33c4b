/**
 * A tap path never brings a sign-in token along: the app adds a fresh one
 * on tap. A server or WebView reading the query may decode a parameter's
 * name, fold its case, trim it, or read `token[]` as `token`, so every
 * parameter name of the query and the fragment is compared the way the
 * most lenient reader would see it. Checked at the webhook, and again by
 * the link builder on the link it built (src/link.ts).
 */

/** `%XX` escapes (UTF-8 sequences too) and `+` undone until nothing changes; a stray `%` is kept. */
function decodeFully(text: string): string {
  let current = text;
  for (let round = 0; round < 8; round++) {
    const next = current.replace(/\+/g, " ").replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** A parameter name as the most lenient reader sees it: decoded, compatibility-folded, lower-cased, trimmed, without `[...]`. */
export function foldedName(name: string): string {
  return decodeFully(name)
    .normalize("NFKC")
    .toLowerCase()
    .trim()
    .replace(/(\[[^\]]*\])+$/, "")
    .trim();
}

/** True when the query or fragment of `path` has a parameter whose name reads as `token`. */
export function hasTokenParam(path: string): boolean {
  const start = path.search(/[?#]/);
  if (start === -1) return false;
  return path
    .slice(start + 1)
    .split(/[?#&;]/)
    .some((pair) => foldedName(pair.split("=", 1)[0]!) === "token");
}
