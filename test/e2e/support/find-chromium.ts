/**
 * Which Chromium the console's browser tests drive, decided from what the
 * machine has (injected, so the order is a table test): the binary
 * `CHROMIUM_PATH` names, else a Chromium or Chrome installed on the system,
 * else the one `npm ci` brought with `@sparticuz/chromium`, which carries a
 * Linux x64 build only (its npm tarball has no arm64 one).
 */

/** What the lookup may ask of the machine. */
export interface Machine {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  arch: string;
  /** A file that exists and may be run. */
  isExecutable(path: string): boolean;
  /** `@sparticuz/chromium`'s packed binary, or null when the package is not installed. */
  packagedArchive: string | null;
}

/** Where the browser comes from; the packaged one is still to unpack (`unpackChromium`). */
export type ChromiumChoice = { source: "CHROMIUM_PATH" | "system"; executable: string } | { source: "packaged"; archive: string };

/** The names Linux distributions and Google's packages install, looked up on PATH, then at the usual places. */
const LINUX_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
const LINUX_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium",
  "/opt/google/chrome/chrome",
];
const MAC_PATHS = ["/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", "/Applications/Chromium.app/Contents/MacOS/Chromium"];

/** Where a system Chromium or Chrome may be, in the order they are tried. */
export function systemCandidates(platform: NodeJS.Platform, pathVariable = ""): string[] {
  if (platform === "darwin") return MAC_PATHS;
  if (platform !== "linux") return [];
  const dirs = pathVariable.split(":").filter((dir) => dir !== "");
  return [...LINUX_NAMES.flatMap((name) => dirs.map((dir) => `${dir}/${name}`)), ...LINUX_PATHS];
}

/** None of the three: the message names each, and why it did not serve. */
export class ChromiumNotFoundError extends Error {
  override name = "ChromiumNotFoundError";
}

/** The first of `CHROMIUM_PATH`, a system browser and the packaged one that this machine has. */
export function chooseChromium(machine: Machine): ChromiumChoice {
  const named = machine.env.CHROMIUM_PATH;
  if (named) {
    // A typo in the variable must not quietly test another browser.
    if (!machine.isExecutable(named)) throw new ChromiumNotFoundError(`CHROMIUM_PATH is ${named}, which is not a file that can be run.`);
    return { source: "CHROMIUM_PATH", executable: named };
  }
  const system = systemCandidates(machine.platform, machine.env.PATH).find((path) => machine.isExecutable(path));
  if (system) return { source: "system", executable: system };
  const packagedFits = machine.platform === "linux" && machine.arch === "x64";
  if (packagedFits && machine.packagedArchive) return { source: "packaged", archive: machine.packagedArchive };
  const packaged = !packagedFits
    ? `it is built for Linux x64 only, and this is ${machine.platform} ${machine.arch}`
    : "it is not installed: run npm ci";
  throw new ChromiumNotFoundError(
    [
      "The console's browser tests found no Chromium. They take the first of:",
      "  1. CHROMIUM_PATH: set it to a Chromium or Chrome binary (unset now);",
      `  2. a system Chromium or Chrome: ${systemHint(machine.platform)};`,
      `  3. the Chromium that npm ci brings with @sparticuz/chromium (${packaged}).`,
    ].join("\n"),
  );
}

function systemHint(platform: NodeJS.Platform): string {
  if (platform === "darwin") return `Chrome at ${MAC_PATHS[0]} (not there)`;
  if (platform === "linux") return `${LINUX_NAMES.join(", ")} on PATH or in /usr/bin (none there; Debian and Ubuntu: apt-get install chromium)`;
  return `not looked for on ${platform}`;
}
