/**
 * Quiet hours: a push that would land inside the window on the device's own
 * clock waits for the window's end. `QUIET_HOURS` is `HH:MM-HH:MM`, start
 * inclusive and end exclusive, and may wrap midnight (`21:00-07:30`); the
 * clock is the device's `time_zone`, else `DEFAULT_TIME_ZONE`; a device with
 * neither is never held. The wait is at most a day, inside the 24 hours a
 * queue message may be delayed.
 */

/** Minutes after local midnight. */
export interface QuietWindow {
  start: number;
  end: number;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Parses `HH:MM-HH:MM`; empty is off (null); anything else throws with what is wrong. */
export function parseQuietHours(text: string | undefined): QuietWindow | null {
  const value = (text ?? "").trim();
  if (value === "") return null;
  const [from, to, ...rest] = value.split("-").map((part) => part.trim());
  const start = from?.match(TIME);
  const end = to?.match(TIME);
  if (!start || !end || rest.length > 0) throw new Error(`QUIET_HOURS must be HH:MM-HH:MM (e.g. 21:00-07:30), not "${value.slice(0, 40)}"`);
  const window = { start: Number(start[1]) * 60 + Number(start[2]), end: Number(end[1]) * 60 + Number(end[2]) };
  if (window.start === window.end) throw new Error("QUIET_HOURS starts and ends at the same minute: an empty window");
  return window;
}

/** Zones already asked about: heldUntil asks for every device of a batch, and a formatter is not free. */
const knownZones = new Map<string, boolean>();

/** True when `zone` is an IANA time zone the runtime knows. */
export function isTimeZone(zone: string): boolean {
  let known = knownZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
      known = true;
    } catch {
      known = false;
    }
    knownZones.set(zone, known);
  }
  return known;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Seconds after local midnight in `zone` at `at` (epoch ms). */
function localSeconds(zone: string, at: number): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  return Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second);
}

const DAY_SECONDS = 86_400;

/** Seconds from local time `t` forward to local minute `minute`, in (0, a day]. */
const secondsTo = (t: number, minute: number) => ((minute * 60 - t + DAY_SECONDS - 1) % DAY_SECONDS) + 1;

/**
 * When the window ends on `zone`'s clock (epoch ms, whole seconds) if `now`
 * falls inside it; null when it does not. A daylight-saving change inside
 * the wait is corrected by looking at the clock again at the end found.
 */
export function quietUntil(window: QuietWindow, zone: string, now: number): number | null {
  const t = localSeconds(zone, now);
  const untilEnd = secondsTo(t, window.end);
  const untilStart = secondsTo(t, window.start);
  // Inside when the end comes before the next start (or the start is right now).
  const inside = untilEnd < untilStart || t === window.start * 60;
  if (!inside) return null;
  const first = Math.floor(now / 1000) * 1000 + untilEnd * 1000;
  // Across a clock change the local time at `first` is an hour off: move by the difference, once.
  let drift = secondsTo(localSeconds(zone, first), window.end) % DAY_SECONDS;
  if (drift > DAY_SECONDS / 2) drift -= DAY_SECONDS;
  return Math.abs(drift) <= 2 * 3600 ? first + drift * 1000 : first;
}

/** The settings, parsed: the window and the clock of a device that names none. */
export interface QuietHours {
  window: QuietWindow;
  defaultZone: string | null;
}

/** Settings already reported as unusable, so each is logged once per isolate. */
const reported = new Set<string>();

/**
 * QUIET_HOURS and DEFAULT_TIME_ZONE as the consumer uses them; null when
 * off. A setting that cannot be read turns the hold off (nothing is held
 * back for ever by a typo) and says so in the log.
 */
export function quietHoursOf(settings: { QUIET_HOURS?: string; DEFAULT_TIME_ZONE?: string }, log: (problem: string) => void): QuietHours | null {
  let window: QuietWindow | null;
  try {
    window = parseQuietHours(settings.QUIET_HOURS);
  } catch (error) {
    reportOnce(String((error as Error).message), log);
    return null;
  }
  if (window === null) return null;
  const zone = (settings.DEFAULT_TIME_ZONE ?? "").trim();
  if (zone !== "" && !isTimeZone(zone)) reportOnce(`DEFAULT_TIME_ZONE "${zone.slice(0, 60)}" is no time zone this runtime knows: devices without a time_zone are not held`, log);
  return { window, defaultZone: zone !== "" && isTimeZone(zone) ? zone : null };
}

function reportOnce(problem: string, log: (problem: string) => void): void {
  if (reported.has(problem)) return;
  reported.add(problem);
  log(problem);
}

/** Until when a push to a device on `zone`'s clock is held (epoch ms), or null to send it now. */
export function heldUntil(quiet: QuietHours | null, zone: string | null | undefined, now: number): number | null {
  const clock = zone ?? quiet?.defaultZone ?? null;
  if (quiet === null || clock === null || !isTimeZone(clock)) return null;
  return quietUntil(quiet.window, clock, now);
}
