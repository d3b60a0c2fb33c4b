/**
 * The order in which the console's browser tests find a Chromium, on
 * machines described in a table: `CHROMIUM_PATH` wins, a system browser
 * comes before the packaged one, and with none of the three the error names
 * all three.
 */
import { describe, expect, it } from "vitest";
import { ChromiumNotFoundError, type Machine, chooseChromium, systemCandidates } from "./support/find-chromium.js";

const ARCHIVE = "/repo/node_modules/@sparticuz/chromium/bin/chromium.br";
const MAC_CHROME = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome";

/** A Linux x64 machine with the packaged browser installed and only the `files` given. */
function machine(files: string[], overrides: Partial<Machine> = {}): Machine {
  return {
    env: { PATH: "/home/dev/.local/bin:/usr/local/bin:/usr/bin" },
    platform: "linux",
    arch: "x64",
    isExecutable: (path) => files.includes(path),
    packagedArchive: ARCHIVE,
    ...overrides,
  };
}

describe("chooseChromium", () => {
  it.each<[string, Machine, ReturnType<typeof chooseChromium>]>([
    [
      "CHROMIUM_PATH wins over a system browser and the packaged one",
      machine(["/opt/chrome-beta/chrome", "/usr/bin/chromium"], { env: { CHROMIUM_PATH: "/opt/chrome-beta/chrome", PATH: "/usr/bin" } }),
      { source: "CHROMIUM_PATH", executable: "/opt/chrome-beta/chrome" },
    ],
    [
      "an empty CHROMIUM_PATH counts as unset",
      machine(["/usr/bin/chromium"], { env: { CHROMIUM_PATH: "", PATH: "/usr/bin" } }),
      { source: "system", executable: "/usr/bin/chromium" },
    ],
    ["a system Chromium before the packaged one", machine(["/usr/bin/chromium"]), { source: "system", executable: "/usr/bin/chromium" }],
    [
      "the first directory on PATH that has one",
      machine(["/usr/bin/chromium-browser", "/home/dev/.local/bin/chromium-browser"]),
      { source: "system", executable: "/home/dev/.local/bin/chromium-browser" },
    ],
    [
      "Chromium's names before Chrome's",
      machine(["/usr/local/bin/google-chrome", "/usr/bin/chromium"]),
      { source: "system", executable: "/usr/bin/chromium" },
    ],
    [
      "a usual place that is not on PATH",
      machine(["/opt/google/chrome/chrome"], { env: { PATH: "/usr/local/bin" } }),
      { source: "system", executable: "/opt/google/chrome/chrome" },
    ],
    [
      "Chrome at its usual path on macOS",
      machine([MAC_CHROME], { platform: "darwin", arch: "arm64", packagedArchive: null }),
      { source: "system", executable: MAC_CHROME },
    ],
    ["the packaged one when the system has none", machine([]), { source: "packaged", archive: ARCHIVE }],
    ["the packaged one with no PATH at all", machine([], { env: {} }), { source: "packaged", archive: ARCHIVE }],
  ])("%s", (_, given, expected) => {
    expect(chooseChromium(given)).toEqual(expected);
  });

  it.each<[string, Machine, RegExp]>([
    ["nothing on Linux x64 (the package not installed)", machine([], { packagedArchive: null }), /it is not installed: run npm ci/],
    ["nothing but the packaged one on Linux arm64, which it has no build for", machine([], { arch: "arm64" }), /Linux x64 only, and this is linux arm64/],
    ["nothing on macOS", machine([], { platform: "darwin", arch: "arm64", packagedArchive: null }), /Google Chrome\.app.*not there/],
  ])("with %s, an error names all three options", (_, given, why) => {
    const attempt = () => chooseChromium(given);
    expect(attempt).toThrow(ChromiumNotFoundError);
    // In the order they are tried.
    expect(attempt).toThrow(/1\. CHROMIUM_PATH[\s\S]*2\. a system Chromium or Chrome[\s\S]*3\. the Chromium that npm ci brings with @sparticuz\/chromium/);
    expect(attempt).toThrow(why);
  });

  it("refuses a CHROMIUM_PATH that names no binary rather than testing another browser", () => {
    const given = machine(["/usr/bin/chromium"], { env: { CHROMIUM_PATH: "/usr/bin/chromum", PATH: "/usr/bin" } });
    expect(() => chooseChromium(given)).toThrow(/CHROMIUM_PATH is \/usr\/bin\/chromum, which is not a file that can be run/);
  });
});

describe("systemCandidates", () => {
  it("looks up each name on PATH, then at the usual places, on Linux", () => {
    const candidates = systemCandidates("linux", "/a:/b");
    expect(candidates.slice(0, 4)).toEqual(["/a/chromium", "/b/chromium", "/a/chromium-browser", "/b/chromium-browser"]);
    expect(candidates).toContain("/usr/bin/google-chrome");
  });

  it("looks in /Applications on macOS, and nowhere on other systems", () => {
    expect(systemCandidates("darwin", "/usr/bin")).toContain(MAC_CHROME);
    expect(systemCandidates("win32", "C:\\Windows")).toEqual([]);
  });
});
