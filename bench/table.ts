/**
 * Formatting shared by the report's tables: numbers as the tables print
 * them, aligned rows, and the cost table (the fan-out's per notification,
 * the stream's per event).
 */
import type { CostLine } from "./cost.ts";

export const f = (value: number | null, digits = 1) => (value === null || !Number.isFinite(value) ? "n/a" : value.toFixed(digits));
export const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a");
export const row = (cells: string[], widths: number[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");

const COST_WIDTHS = [52, 16, 14, 14];

/** The cost lines, per `unit` ("notification", "event") and per million of them, and the total. */
export function costTable(cost: { lines: CostLine[]; total: number }, unit: string): string[] {
  return [
    row(["", `per ${unit}`, "per million", "$ per million"], COST_WIDTHS),
    ...cost.lines.map((l) => row([l.item, f(l.per_notification, 3), f(l.per_million, 1), `$${f(l.dollars_per_million, 3)}`], COST_WIDTHS)),
    row(["total", "", "", `$${f(cost.total, 2)}`], COST_WIDTHS),
  ];
}

/** One target of the bench: what was measured against what it should be. */
export interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean;
}
