/**
 * `--week`'s part of the report: what was seeded, then each read's time
 * and what it cost D1, with its target (the issue's: each well inside D1's
 * limits, under 2 s locally; rows read are printed, with no target) and
 * whether it answered what was seeded.
 */
import { f, int, row, type Target } from "./table.ts";
import { FANOUT_DOC, FANOUT_SHARE, SINGLES_DOC } from "./week-data.ts";
import type { WeekFigures } from "./week.ts";

export const WEEK_TARGETS = {
  /** Each read, median of 3, locally. */
  readSeconds: 2,
};

export function weekTargets(w: WeekFigures): Target[] {
  const limit = WEEK_TARGETS.readSeconds * 1000;
  return w.reads.flatMap((r): Target[] => [
    { name: `week: ${r.name}, median of ${r.runs_ms.length}`, target: `≤ ${WEEK_TARGETS.readSeconds} s`, value: `${int(r.median_ms)} ms`, met: r.median_ms <= limit },
    { name: `week: ${r.name} answers what was seeded (${r.check.what})`, target: "yes", value: r.check.passed ? "yes" : "no", met: r.check.passed },
  ]);
}

const GB = 1024 ** 3;
const size = (bytes: number) => (bytes >= GB ? `${f(bytes / GB, 2)} GiB` : `${f(bytes / 1024 ** 2, 1)} MiB`);
const WIDTHS = [46, 10, 26, 13, 8, 12];

/** The week's lines of the table. */
export function formatWeek(w: WeekFigures): string[] {
  const s = w.seed;
  const docs = s.documents.fanout + s.documents.singles;
  return [
    `Week: ${s.days} days × ${int(s.per_day)} notifications, ${Math.round(FANOUT_SHARE * 100)} % in fan-outs (documents of ${FANOUT_DOC}), ` +
      `the rest single reminders (documents of ${SINGLES_DOC} events), seeded straight into D1`,
    `  seeded in                       ${f(s.seconds, 0)} s: ${int(docs)} documents (${int(s.documents.fanout)} of ${int(s.fanout_events)} fan-outs, ` +
      `${int(s.documents.singles)} of ${int(s.single_events)} single reminders), ${int(s.notifications)} notifications, ${int(s.deliveries)} deliveries`,
    `  users and devices               ${int(s.users)} users, ${int(s.devices)} devices`,
    `  stored                          documents ${size(s.doc_bytes)} deflated (${size(s.json_bytes)} of JSON; ` +
      `${int(s.doc_bytes / s.notifications)} bytes a notification); database ${size(s.database_bytes)}`,
    `  planted user                    custom_id ${s.probe.custom_id}, user_id ${s.probe.user_id}: ${s.probe.notifications} notifications across the days`,
    "",
    row(["", "median", "runs ms", "D1 rows read", "queries", "Worker ms"], WIDTHS),
    ...w.reads.map((r) =>
      row(
        [
          r.name,
          `${int(r.median_ms)} ms`,
          r.runs_ms.map((ms) => int(ms)).join(" / "),
          r.rows_read === null ? "n/a" : int(r.rows_read),
          r.queries === null ? "n/a" : String(r.queries),
          r.worker_ms === null ? "n/a" : int(r.worker_ms),
        ],
        WIDTHS,
      ),
    ),
    ...w.reads.filter((r) => !r.check.passed).map((r) => `  NOT AS SEEDED: ${r.name}: ${r.check.what}`),
  ];
}
