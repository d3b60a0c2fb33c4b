/**
 * Captures the relay's JSON log lines during a test, to assert on what an
 * operator sees and on what must never appear (tokens, keys).
 */
import { vi } from "vitest";

export interface LogLine {
  event: string;
  level: string;
  [field: string]: unknown;
}

/** Starts capturing console output; `stop()` restores it. */
export function captureLogs() {
  const raw: string[] = [];
  const spies = (["log", "warn", "error"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      raw.push(args.map(String).join(" "));
    }),
  );
  return {
    raw,
    lines(): LogLine[] {
      return raw.flatMap((line) => {
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      });
    },
    errors(): LogLine[] {
      return this.lines().filter((l) => l.level === "error");
    },
    stop() {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
