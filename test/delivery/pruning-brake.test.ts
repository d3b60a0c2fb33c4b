/**
 * The pruning brake, through the real FCM provider and the stand-in: dead
 * tokens below the threshold are removed as before; a burst quarantines
 * (kept, not sent to, listed, counted, alerted) across concurrent consumer
 * invocations; restore brings a device back, confirm removes it, and the
 * hourly sweep purges what nobody answered for after 7 days.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { QUARANTINE_DAYS } from "../../src/db/pruning";
import { sweepQuarantine } from "../../src/maintenance/quarantine";
import type { PushJob } from "../../src/queue/message";
import { captureLogs } from "../support/logs";
import { alertOf, eventDeliveries, job, ownProviders, queued, relayStats, replayJobs, runBatch, seedDevices } from "../support/delivery";
import { failRate, pushes, requests, script } from "../support/standins";
import { uniqueId } from "../support/ids";
import { api } from "../support/webhook";

const DAY = 86_400_000;
let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => logs?.stop());

interface QuarantinedJson {
  token: string;
  app: string;
  quarantined_at: string;
  quarantine_reason: string;
  purge_after: string;
}

/** `count` FCM users in an app of their own, tokens under one prefix, and their notifications in jobs of 50. */
async function fleet(count: number) {
  const app = uniqueId("app");
  const prefix = uniqueId("brk");
  const users = Array.from({ length: count }, (_, i) => ({ custom_id: uniqueId("emp"), token: `${prefix}-${i}:APA91b${"x".repeat(60)}` }));
  await seedDevices(users.map((u) => ({ ...u, provider: "fcm" as const, user_id: null, app })));
  const jobs: PushJob[] = [];
  for (let i = 0; i < count; i += 50) jobs.push(job(users.slice(i, i + 50).map((u, k) => queued({ i: k, custom_id: u.custom_id }))));
  return { app, prefix, users, jobs, tokens: users.map((u) => u.token) };
}

async function states(tokens: readonly string[]) {
  const { results } = await env.DB.prepare(
    "SELECT token, quarantined_at IS NOT NULL AS held FROM devices WHERE token IN (SELECT value FROM json_each(?1))",
  )
    .bind(JSON.stringify(tokens))
    .all<{ token: string; held: number }>();
  return { kept: results.length, quarantined: results.filter((r) => r.held).length };
}

async function listAll(app: string, limit: number): Promise<{ pages: number; devices: QuarantinedJson[] }> {
  const devices: QuarantinedJson[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const response = await api(`/v1/quarantine?app=${app}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as { devices: QuarantinedJson[]; next_cursor: string | null };
    devices.push(...page.devices);
    cursor = page.next_cursor;
    pages++;
  } while (cursor);
  return { pages, devices };
}

describe("pruning brake", () => {
  it("below the threshold dead tokens are removed as before", async () => {
    const { app, prefix, jobs, tokens } = await fleet(60);
    await failRate({ rate: 1, preset: "unregistered", token_prefix: prefix });
    const run = await runBatch(jobs, { providers: await ownProviders({}, [app]) });
    await failRate({ rate: 0, token_prefix: prefix });
    expect(run.report.d1RoundTrips).toBe(3);
    expect(await states(tokens)).toEqual({ kept: 0, quarantined: 0 });
    expect((await eventDeliveries(jobs[0]!.event_id))!.summary).toEqual({ invalid_token: 50 });
    expect(await alertOf("pruning_brake", "fcm", app)).toBeUndefined();
  });

  it("a burst of UNREGISTERED quarantines: kept, not sent to, listed, counted; restore brings a device back", async () => {
    const { app, prefix, users, jobs, tokens } = await fleet(150);
    await failRate({ rate: 1, preset: "unregistered", token_prefix: prefix });
    const providers = await ownProviders({}, [app]);
    const before = await relayStats();
    logs = captureLogs();
    const run = await runBatch(jobs, { providers });
    logs.stop();

    expect(run.report.d1RoundTrips).toBe(3);
    expect(await states(tokens)).toEqual({ kept: 150, quarantined: 150 });
    expect((await eventDeliveries(jobs[0]!.event_id))!.summary).toEqual({ invalid_token: 50 });
    expect(logs.errors()).toEqual([expect.objectContaining({ event: "alert", kind: "pruning_brake", provider: "fcm", app, quarantined: 150, reason: "UNREGISTERED" })]);

    const listed = await listAll(app, 100);
    expect(listed.pages).toBe(2);
    expect(listed.devices.map((d) => d.token).sort()).toEqual([...tokens].sort());
    expect(listed.devices[0]).toMatchObject({ app, quarantine_reason: "UNREGISTERED" });
    expect(Date.parse(listed.devices[0]!.purge_after) - Date.parse(listed.devices[0]!.quarantined_at)).toBe(QUARANTINE_DAYS * DAY);

    const after = await relayStats();
    expect((after.quarantined.fcm ?? 0) - (before.quarantined.fcm ?? 0)).toBe(150);
    expect(await alertOf("pruning_brake", "fcm", app)).toMatchObject({ count: 150, reason: null, check: expect.stringContaining("/v1/quarantine") });

    // Held devices are not sent to: the next notification is recorded failed (replayable), and nothing reaches FCM.
    const [back, gone] = [users[0]!, users[1]!];
    const ofUser = (await (await api(`/v1/users/${back.custom_id}/devices`)).json()) as { devices: QuarantinedJson[] };
    expect(ofUser.devices).toEqual([expect.objectContaining({ token: back.token, app, quarantine_reason: "UNREGISTERED", quarantined_at: expect.any(String) })]);
    const next = job([queued({ custom_id: back.custom_id }), queued({ i: 1, custom_id: gone.custom_id })]);
    const held = await runBatch([next], { providers });
    expect(held.acked).toHaveLength(1);
    const whileHeld = (await eventDeliveries(next.event_id))!;
    expect(whileHeld.summary).toEqual({ failed: 2 });
    expect(whileHeld.deliveries.map((d) => [d.device_token, d.error])).toEqual([
      [null, "device_quarantined"],
      [null, "device_quarantined"],
    ]);
    expect(await requests(back.token)).toHaveLength(1);

    // The provider's incident is over; the operator restores one device (the answer names the event it
    // missed) and confirms another gone.
    await failRate({ rate: 0, token_prefix: prefix });
    const restored = await api(`/v1/devices/${encodeURIComponent(back.token)}/restore`, { method: "POST" });
    expect(restored.status).toBe(200);
    const restoredJson = (await restored.json()) as { device: QuarantinedJson; held_events: string[] };
    expect(restoredJson.device).toMatchObject({ token: back.token, quarantined_at: null });
    expect(restoredJson.held_events).toEqual([next.event_id]);
    expect((await api(`/v1/devices/${encodeURIComponent(back.token)}/restore`, { method: "POST" })).status).toBe(404);
    expect((await api(`/v1/devices/${encodeURIComponent(gone.token)}/confirm-removal`, { method: "POST" })).status).toBe(204);
    expect((await api(`/v1/devices/${encodeURIComponent(gone.token)}/confirm-removal`, { method: "POST" })).status).toBe(404);

    // The replay reaches the restored device once; the removed one's user has no device now.
    const replay = await replayJobs(next.event_id);
    await runBatch(replay, { providers });
    await runBatch(replay, { providers });
    expect((await eventDeliveries(next.event_id))!.deliveries.map((d) => [d.index, d.device_token, d.status])).toEqual([
      [0, back.token, "sent"],
      [1, null, "no_device"],
    ]);
    expect(await pushes({ token: back.token })).toHaveLength(1);

    const again = job([queued({ custom_id: back.custom_id }), queued({ i: 1, custom_id: gone.custom_id })]);
    await runBatch([again], { providers });
    expect((await eventDeliveries(again.event_id))!.deliveries.map((d) => [d.device_token, d.status])).toEqual([
      [back.token, "sent"],
      [null, "no_device"],
    ]);
    expect(await pushes({ token: back.token })).toHaveLength(2);

    // The rest in bulk: restored, and the brake's alert goes with the empty quarantine.
    const bulk = await api("/v1/quarantine/restore", { method: "POST", json: { provider: "fcm", app } });
    expect(await bulk.json()).toEqual({ restored: 148, remaining: 0, held_events: [] });
    expect(await states(tokens)).toEqual({ kept: 149, quarantined: 0 });
    expect(await alertOf("pruning_brake", "fcm", app)).toBeUndefined();
  });

  it("counts across concurrent consumer invocations: the first 50 dead go, then the brake holds", async () => {
    const { app, prefix, jobs, tokens } = await fleet(150);
    await failRate({ rate: 1, preset: "unregistered", token_prefix: prefix });
    const providers = await ownProviders({}, [app]);
    // Three invocations at once, one message each: D1 runs their record transactions one after another.
    await Promise.all(jobs.map((j) => runBatch([j], { providers })));
    await failRate({ rate: 0, token_prefix: prefix });
    expect(await states(tokens)).toEqual({ kept: 100, quarantined: 100 });
  });

  it("a few dead among many accepted is no burst", async () => {
    const { app, users, jobs, tokens } = await fleet(200);
    // 40 dead tokens among 200 answers: 20 %.
    await Promise.all(users.slice(0, 40).map((u) => script(u.token, [{ preset: "unregistered" }])));
    await runBatch(jobs, { providers: await ownProviders({}, [app]) });
    expect(await states(tokens)).toEqual({ kept: 160, quarantined: 0 });
  });

  it(`the hourly sweep purges devices held ${QUARANTINE_DAYS} days unless restored, and the alert with them`, async () => {
    const { app, prefix, jobs, tokens } = await fleet(120);
    await failRate({ rate: 1, preset: "unregistered", token_prefix: prefix });
    const heldAt = Date.now() - 8 * DAY;
    // Registered before the pushes that find them dead (a dead answer never prunes a later registration).
    await env.DB.prepare("UPDATE devices SET updated_at = ?2 WHERE token IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(tokens), heldAt - DAY)
      .run();
    await runBatch(jobs, { providers: await ownProviders({}, [app]), now: () => heldAt });
    await failRate({ rate: 0, token_prefix: prefix });
    expect(await states(tokens)).toEqual({ kept: 120, quarantined: 120 });
    // Twenty of them were held only 6 days ago.
    await env.DB.prepare("UPDATE devices SET quarantined_at = ?2 WHERE token IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(tokens.slice(0, 20)), Date.now() - 6 * DAY)
      .run();

    const first = await sweepQuarantine(env.DB, Date.now());
    expect(first.purged).toBeGreaterThanOrEqual(100);
    expect(await states(tokens)).toEqual({ kept: 20, quarantined: 20 });
    expect(await alertOf("pruning_brake", "fcm", app)).toBeDefined();

    await sweepQuarantine(env.DB, Date.now() + 2 * DAY);
    expect(await states(tokens)).toEqual({ kept: 0, quarantined: 0 });
    expect(await alertOf("pruning_brake", "fcm", app)).toBeUndefined();
  });

  it("bulk confirm removes what is held; the routes answer JSON errors and need the admin key", async () => {
    const { app, prefix, jobs, tokens } = await fleet(100);
    await failRate({ rate: 1, preset: "unregistered", token_prefix: prefix });
    await runBatch(jobs, { providers: await ownProviders({}, [app]) });
    await failRate({ rate: 0, token_prefix: prefix });
    expect(await states(tokens)).toEqual({ kept: 100, quarantined: 100 });
    const removed = await api("/v1/quarantine/confirm-removal", { method: "POST", json: { app } });
    expect(await removed.json()).toEqual({ removed: 100, remaining: 0 });
    expect(await states(tokens)).toEqual({ kept: 0, quarantined: 0 });

    for (const [path, init, status, code] of [
      ["/v1/quarantine?limit=0", {}, 400, "invalid_request"],
      ["/v1/quarantine?cursor=%%%", {}, 400, "invalid_request"],
      ["/v1/quarantine/restore", { method: "POST", body: "{nope" }, 400, "invalid_json"],
      ["/v1/quarantine/restore", { method: "POST", json: { app: 7 } }, 400, "invalid_request"],
      ["/v1/devices/unknown-token/restore", { method: "POST" }, 404, "not_found"],
      ["/v1/quarantine", { key: null }, 401, "unauthorized"],
      ["/v1/quarantine/restore", { method: "POST", key: null }, 401, "unauthorized"],
      ["/v1/devices/x/confirm-removal", { method: "POST", key: null }, 401, "unauthorized"],
    ] as const) {
      const response = await api(path, init);
      expect(response.status, path).toBe(status);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });
});
