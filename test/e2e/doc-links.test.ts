/**
 * Every relative link in the README and in docs/ leads somewhere: the file
 * exists, and an anchor names a heading of that file (as GitHub makes
 * anchors from headings). Moving a section from one page to another cannot
 * leave a reader at a dead link.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./support/local-run.js";

/** The text outside code blocks (a link in a snippet is not a link). */
const prose = (file: string) => readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

/** Every anchor of a Markdown file; a repeated heading gets `-1`, `-2`, ... */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const [, heading] of prose(file).matchAll(/^#{1,6} (.+)$/gm)) {
    const anchor = anchorOf(heading!);
    const n = seen.get(anchor) ?? 0;
    seen.set(anchor, n + 1);
    found.add(n === 0 ? anchor : `${anchor}-${n}`);
  }
  return found;
}

/** The relative links of a file that lead nowhere. */
function deadLinks(file: string): string[] {
  const dead: string[] = [];
  for (const [, href] of prose(file).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(href!)) continue;
    const [path, anchor] = href!.split("#");
    const target = path ? join(dirname(file), decodeURI(path)) : file;
    if (!existsSync(target)) dead.push(`${href} (no such file)`);
    else if (anchor && target.endsWith(".md") && !anchors(target).has(anchor)) dead.push(`${href} (no such heading)`);
  }
  return dead;
}

const PAGES = [join(REPO, "README.md"), ...readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(REPO, "docs", f))];

describe("links in the README and docs/", () => {
  it("makes anchors as GitHub does", () => {
    expect(anchorOf("React Native (`@react-native-firebase/messaging`)")).toBe("react-native-react-native-firebasemessaging");
    expect(anchorOf("The backend's half")).toBe("the-backends-half");
    expect(anchorOf("Flutter (`firebase_messaging`)")).toBe("flutter-firebase_messaging");
  });

  it.each(PAGES.map((page) => [relative(REPO, page), page]))("%s: every relative link resolves", (_name, page) => {
    expect(deadLinks(page)).toEqual([]);
  });
});
