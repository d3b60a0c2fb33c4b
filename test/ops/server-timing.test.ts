/**
 * The operations API and the console say in `Server-Timing` what a request
 * cost D1 (src/http/server-timing.ts); the webhook does not.
 */
import { describe, expect, it } from "vitest";
import { ConsoleClient } from "../support/console";
import { fakeProviders, job, queued, runBatch } from "../support/delivery";
import { uniqueId } from "../support/ids";
import { api, notification, notificationsSent, postWebhook } from "../support/webhook";

const D1_TIMING = /(?:^|, )d1;desc="rows_read=(\d+) rows_written=(\d+) queries=(\d+)";dur=(\d+)(?:,|$)/;

/** The header's figures, or null without one. */
function d1Of(response: Response) {
  const match = D1_TIMING.exec(response.headers.get("server-timing") ?? "");
  return match && { rowsRead: Number(match[1]), rowsWritten: Number(match[2]), queries: Number(match[3]), ms: Number(match[4]) };
}

describe("Server-Timing", () => {
  it("GET /v1/stats says the rows it read in one round trip", async () => {
    await runBatch([job([queued({ custom_id: uniqueId("emp") })])], { providers: fakeProviders() });
    const response = await api("/v1/stats");
    expect(response.status).toBe(200);
    const d1 = d1Of(response);
    expect(d1).not.toBeNull();
    expect(d1!.rowsRead).toBeGreaterThanOrEqual(0);
    // The summary row just written is among what the stats read; they read, they do not write.
    expect(d1!.rowsRead).toBeGreaterThan(0);
    expect(d1!.rowsWritten).toBe(0);
    expect(d1!.queries).toBe(1);
  });

  it("counts each query of a user's deliveries, and an error answer carries it too", async () => {
    const found = d1Of(await api(`/v1/users/${uniqueId("emp")}/deliveries`));
    expect(found?.queries).toBeGreaterThanOrEqual(1);
    const refused = await api("/v1/users/x/deliveries?by=nobody");
    expect(refused.status).toBe(400);
    expect(d1Of(refused)).not.toBeNull();
  });

  it("is on the console's pages", async () => {
    const browser = new ConsoleClient();
    await browser.signIn();
    const { status, response } = await browser.page(`/admin/users?by=custom_id&id=${uniqueId("emp")}`);
    expect(status).toBe(200);
    expect(d1Of(response)?.queries).toBeGreaterThanOrEqual(2);
    expect(d1Of((await browser.page("/admin")).response)).not.toBeNull();
  });

  it("is not on the webhook's answer", async () => {
    const response = await postWebhook(notificationsSent([notification()]));
    expect(response.status).toBe(200);
    expect(response.headers.get("server-timing")).toBeNull();
  });
});
