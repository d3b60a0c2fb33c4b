/**
 * Provider settings are parsed (and their keys imported) once per isolate,
 * remembered by the exact setting text, so a rotated secret is picked up
 * and a broken one is reported once per isolate instead of once per send.
 * Several apps mean several texts in use at once: a few are remembered.
 */
import { log } from "../log";
import type { PushResult } from "./provider";

/** A provider's settings: usable, absent, or present but broken. */
export type Configured<T> =
  | { kind: "ok"; config: T }
  | { kind: "not_configured" }
  | { kind: "misconfigured"; setting: string };

/** Texts remembered per setting: more apps than this alternating would re-import keys. */
export const REMEMBERED_SOURCES = 16;

/** Remembers the parses of the last few texts of a setting: the same text is not parsed twice. */
export function memoizeBySource<T>(parse: (source: string) => Promise<T>): (source: string) => Promise<T> {
  const parsed = new Map<string, Promise<T>>();
  return (source) => {
    let result = parsed.get(source);
    if (result === undefined) {
      if (parsed.size >= REMEMBERED_SOURCES) parsed.delete(parsed.keys().next().value!);
      result = parse(source);
      parsed.set(source, result);
    }
    return result;
  };
}

/** Logs which setting is wrong and how, never its value; returns the `misconfigured` state. */
export function misconfigured(provider: string, setting: string, problem: string): { kind: "misconfigured"; setting: string } {
  log("credentials", { provider, reason: "provider_misconfigured", setting, problem }, "error");
  return { kind: "misconfigured", setting };
}

const reported = new Set<string>();

/**
 * What a send answers when `app`'s settings for `provider` are unusable
 * (`setting` says which); logged once per isolate per app and setting, so
 * the log says which app is misconfigured without a line per push.
 */
export function unusableSettings(provider: string, app: string, setting: string): PushResult {
  const key = `${provider}\u0000${app}\u0000${setting}`;
  if (!reported.has(key)) {
    reported.add(key);
    log("credentials", { provider, app, reason: "provider_misconfigured", setting }, "error");
  }
  return { kind: "misconfigured", reason: setting };
}

/** PEM pasted into a variable sometimes arrives with literal "\n" instead of line breaks. */
export function normalizePem(pem: string): string {
  return pem.includes("\\n") ? pem.replace(/\\n/g, "\n") : pem;
}
