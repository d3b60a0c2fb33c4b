/**
 * `--week`: the reads an operator makes, on a ledger as large as a week at
 * a million notifications a day. The ledger is seeded straight into D1
 * (week-seed.ts), then the Worker is asked over HTTP, with the relay's
 * admin key: a user's deliveries (by custom_id and by user_id), the
 * console's user page (signed in with the same key, as an operator does),
 * `/v1/stats`, the console's overview and one event. Each is timed (the
 * median of 3, after one unmeasured request), and what it cost D1 is read
 * from the answer's `Server-Timing` (src/http/server-timing.ts). Each
 * answer is checked against what was seeded.
 */
import type { LocalRelay } from "./harness.ts";
import { seedWeek, type WeekSeed, type WeekSeedOptions } from "./week-seed.ts";

/** One read: where, how long it took (each run and the median), what D1 says it cost, and whether it answered what was seeded. */
export interface WeekRead {
  name: string;
  path: string;
  status: number;
  runs_ms: number[];
  median_ms: number;
  rows_read: number | null;
  rows_written: number | null;
  queries: number | null;
  /** `dur` of Server-Timing: the Worker's own clock, which moves on I/O. */
  worker_ms: number | null;
  /** What the answer was checked for, and whether it held. */
  check: { what: string; passed: boolean };
}

export interface WeekFigures {
  seed: Omit<WeekSeed, "buckets">;
  reads: WeekRead[];
}

const RUNS = 3;
const D1_TIMING = /d1;desc="rows_read=(\d+) rows_written=(\d+) queries=(\d+)";dur=(\d+)/;

/** The figures of Server-Timing's `d1` entry. */
function d1Of(response: Response) {
  const match = D1_TIMING.exec(response.headers.get("server-timing") ?? "");
  return {
    rows_read: match ? Number(match[1]) : null,
    rows_written: match ? Number(match[2]) : null,
    queries: match ? Number(match[3]) : null,
    worker_ms: match ? Number(match[4]) : null,
  };
}

/** A request as the bench sends it, and what it checks in the answer's body. */
interface ReadSpec {
  name: string;
  path: string;
  headers: Record<string, string>;
  check: (body: string, sentAt: number) => { what: string; passed: boolean };
}

/** One unmeasured request, then RUNS measured ones, each read to its last byte. */
async function measureRead(relay: LocalRelay, spec: ReadSpec): Promise<WeekRead> {
  const once = async () => {
    const sentAt = Date.now();
    const started = performance.now();
    const response = await fetch(`${relay.url}${spec.path}`, { headers: spec.headers, redirect: "manual" });
    const body = await response.text();
    return { ms: performance.now() - started, response, body, sentAt };
  };
  await once();
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once());
  const median = [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(RUNS / 2)]!;
  return {
    name: spec.name,
    path: spec.path,
    status: median.response.status,
    runs_ms: runs.map((r) => r.ms),
    median_ms: median.ms,
    ...d1Of(median.response),
    check: median.response.ok ? spec.check(median.body, median.sentAt) : { what: `answered ${median.response.status}`, passed: false },
  };
}

/** The console's session cookie, signed in through its form with the admin key as an operator does. */
async function consoleCookie(relay: LocalRelay): Promise<string> {
  const cookies = new Map<string, string>();
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  };
  const header = () => [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  const form = await fetch(`${relay.url}/admin/login`, { redirect: "manual" });
  keep(form);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error("the console's sign-in page carries no CSRF token");
  const signIn = await fetch(`${relay.url}/admin/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: relay.url, cookie: header() },
    body: new URLSearchParams({ _csrf: csrf, key: relay.apiKey, next: "/admin" }).toString(),
  });
  keep(signIn);
  if (signIn.status !== 303 || ![...cookies.keys()].some((k) => k.endsWith("relay_console"))) {
    throw new Error(`the console's sign-in answered ${signIn.status} without a session`);
  }
  return header();
}

/** How far back a user's deliveries are listed (USER_LOOKBACK_SECONDS of src/db/summaries.ts). */
const USER_LOOKBACK_S = 7 * 86_400;

/** The planted user's deliveries of the last 7 days came back whole: as many as were planted, from the same events. */
function probeCheck(seed: WeekSeed, eventIds: (body: string) => string[]) {
  return (body: string, sentAt: number) => {
    const from = Math.floor(sentAt / 1000) - USER_LOOKBACK_S;
    // An event may hold the user twice (two of a fan-out's notifications): the ids are compared as lists.
    const planted = seed.probe.events.filter((e) => e.bucket >= from).map((e) => e.id).sort();
    const found = eventIds(body).sort();
    return {
      what: `${found.length} of the planted user's ${planted.length} deliveries of the last 7 days`,
      passed: found.length === planted.length && found.every((id, i) => id === planted[i]),
    };
  };
}

/** What /v1/stats (JSON) or the overview counts over 7 days is what was seeded in that window. */
function statsCheck(seed: WeekSeed) {
  return (body: string, sentAt: number) => {
    const stats = JSON.parse(body) as { deliveries: Record<string, Record<string, Record<string, number>>> };
    const counted = Object.values(stats.deliveries["7d"] ?? {}).reduce((sum, byStatus) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
    const from = Math.ceil((sentAt - 7 * 86_400_000) / 1000);
    const seeded = seed.buckets.reduce((sum, b) => sum + (b.bucket >= from ? b.deliveries : 0), 0);
    return { what: `7d deliveries ${counted.toLocaleString("en-US")} of ${seeded.toLocaleString("en-US")} seeded`, passed: counted === seeded };
  };
}

/** The reads of the week, each with what it must answer. */
function readsOf(relay: LocalRelay, seed: WeekSeed, cookie: string): ReadSpec[] {
  const api = { authorization: `Bearer ${relay.apiKey}` };
  const signedIn = { cookie };
  const apiIds = (body: string) => (JSON.parse(body) as { deliveries: { event_id: string }[] }).deliveries.map((d) => d.event_id);
  const pageIds = (body: string) => [...body.matchAll(/data-event="([^"]+)"/g)].map((m) => m[1]!);
  const { custom_id, user_id } = seed.probe;
  const newest = seed.probe.events.at(-1);
  return [
    { name: "GET /v1/users/:custom_id/deliveries", path: `/v1/users/${custom_id}/deliveries`, headers: api, check: probeCheck(seed, apiIds) },
    { name: "GET /v1/users/:user_id/deliveries?by=user_id", path: `/v1/users/${user_id}/deliveries?by=user_id`, headers: api, check: probeCheck(seed, apiIds) },
    { name: "console: user page (/admin/users)", path: `/admin/users?by=custom_id&id=${custom_id}`, headers: signedIn, check: probeCheck(seed, pageIds) },
    { name: "GET /v1/stats", path: "/v1/stats", headers: api, check: statsCheck(seed) },
    { name: "console: overview (/admin)", path: "/admin", headers: signedIn, check: (body) => ({ what: "the overview's tables", passed: body.includes("Last 7 days") }) },
    ...(newest
      ? [{
          name: "GET /v1/events/:id (the user's latest)",
          path: `/v1/events/${newest.id}?limit=50`,
          headers: api,
          check: (body: string) => ({ what: "the event found by its id's second", passed: (JSON.parse(body) as { event_id?: string }).event_id === newest.id }),
        }]
      : []),
  ];
}

export async function measureWeek(relay: LocalRelay, options: WeekSeedOptions): Promise<WeekFigures> {
  const seed = await seedWeek(relay.db, options);
  const cookie = await consoleCookie(relay);
  const reads: WeekRead[] = [];
  for (const spec of readsOf(relay, seed, cookie)) reads.push(await measureRead(relay, spec));
  const { buckets: _buckets, ...kept } = seed;
  return { seed: kept, reads };
}
