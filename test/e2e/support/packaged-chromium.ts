/**
 * The Chromium that `npm ci` brings: `@sparticuz/chromium` carries a
 * headless shell for Linux x64, brotli-packed, in its npm tarball, so it
 * installs from the registry alone. Only the binary is unpacked (the
 * package's fonts and SwiftShader serve Lambda; the tests use the system's
 * fonts and no GPU), once per version, into node_modules/.cache: the
 * package's own `executablePath()` unpacks to a fixed `/tmp/chromium` that
 * every checkout and user of the machine would share, whatever its version,
 * and hands it out while another process may still be writing it.
 */
import { createReadStream, createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress } from "node:zlib";
import { REPO } from "./local-run.js";

/** The packed binary of the installed `@sparticuz/chromium`, or null when it is not installed. */
export function packagedArchive(): string | null {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve("@sparticuz/chromium");
  } catch {
    return null;
  }
  const archive = join(dirname(entry), "..", "bin", "chromium.br");
  return existsSync(archive) ? archive : null;
}

/** The unpacked binary of `archive` (unpacked now, the first time: about 3 s and 210 MB). */
export async function unpackChromium(archive: string): Promise<string> {
  const { version } = JSON.parse(readFileSync(join(dirname(archive), "..", "package.json"), "utf8")) as { version: string };
  const dir = join(REPO, "node_modules", ".cache", "chromium");
  const executable = join(dir, `chromium-${version}`);
  if (existsSync(executable)) return executable;
  await mkdir(dir, { recursive: true });
  // Written under a name of its own, then renamed: a run beside this one never finds half a binary.
  const partial = `${executable}.${process.pid}.partial`;
  try {
    await pipeline(createReadStream(archive), createBrotliDecompress(), createWriteStream(partial, { mode: 0o755 }));
    await rename(partial, executable);
  } finally {
    await rm(partial, { force: true });
  }
  return executable;
}
