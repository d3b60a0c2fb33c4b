/**
 * The browser the console tests drive through playwright-core, which never
 * downloads one of its own: `CHROMIUM_PATH`, else a system Chromium or
 * Chrome, else the one `npm ci` brought (see find-chromium.ts). Screenshots
 * of each page go to `screenshots/` (git-ignored).
 */
import { accessSync, constants, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import { chooseChromium } from "./find-chromium.js";
import { REPO } from "./local-run.js";
import { packagedArchive, unpackChromium } from "./packaged-chromium.js";

export const SCREENSHOTS = join(REPO, "screenshots");

/**
 * The machines reach nothing beyond the package registry, so the browser
 * must not try (updates, sync, field trials); tests run as root and without
 * a GPU. playwright-core passes most of these already; a system Chrome gets
 * them all the same. Each launch gets a fresh temporary profile from
 * playwright-core (it refuses `--user-data-dir`), removed on close.
 * `@sparticuz/chromium`'s own `args` are for Lambda: its `--single-process`
 * makes playwright-core's new pages fail, and it turns web security off.
 */
const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The Chromium to run on this machine, unpacked first when it is the packaged one; rejects with every option when there is none. */
export async function chromiumExecutable(): Promise<string> {
  const choice = chooseChromium({
    env: process.env,
    platform: process.platform,
    arch: process.arch,
    isExecutable,
    packagedArchive: packagedArchive(),
  });
  return choice.source === "packaged" ? unpackChromium(choice.archive) : choice.executable;
}

/** Chromium headless at `executablePath` (from `chromiumExecutable`), with a fresh profile. */
export function launchBrowser(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: LAUNCH_ARGS });
}

/** Saves a full-page screenshot as `screenshots/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
