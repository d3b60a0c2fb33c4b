/**
 * The browser the console tests drive: Debian's `chromium` (or the one
 * `CHROMIUM_PATH` names) through playwright-core, which never downloads a
 * browser of its own. Screenshots of each page go to `screenshots/`
 * (git-ignored).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import { REPO } from "./local-run.js";

export const SCREENSHOTS = join(REPO, "screenshots");

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The Chromium to run: `CHROMIUM_PATH`, else the first of the usual Linux paths that exists. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH || CANDIDATES.find((candidate) => existsSync(candidate));
  if (!path) {
    throw new Error(
      "The console's browser tests need Chromium: `apt-get install -y chromium` (Debian, Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary.",
    );
  }
  return path;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath() });
}

/** Saves a full-page screenshot as `screenshots/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
