/**
 * Provider settings are parsed (and their keys imported) once per isolate,
 * remembered by the exact setting text, so a rotated secret is picked up
 * and a broken one is reported once per isolate instead of once per send.
 */
import { log } from "../log";
import type { Provider } from "../devices/types";

/** A provider's settings: usable, absent, or present but broken. */
export type Configured<T> =
  | { kind: "ok"; config: T }
  | { kind: "not_configured" }
  | { kind: "misconfigured"; setting: string };

/** Remembers the last parse of a setting: the same text is never parsed twice. */
export function memoizeBySource<T>(parse: (source: string) => Promise<T>): (source: string) => Promise<T> {
  let last: { source: string; parsed: Promise<T> } | undefined;
  return (source) => {
    if (last?.source !== source) last = { source, parsed: parse(source) };
    return last.parsed;
  };
}

/** Logs which setting is wrong and how, never its value; returns the `misconfigured` state. */
export function misconfigured(provider: Provider, setting: string, problem: string): { kind: "misconfigured"; setting: string } {
  log("credentials", { provider, reason: "provider_misconfigured", setting, problem }, "error");
  return { kind: "misconfigured", setting };
}

/** PEM pasted into a variable sometimes arrives with literal "\n" instead of line breaks. */
export function normalizePem(pem: string): string {
  return pem.includes("\\n") ? pem.replace(/\\n/g, "\n") : pem;
}
