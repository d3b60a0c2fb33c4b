/**
 * A provider that refuses our credentials, end to end through the real
 * providers and the stand-ins: the deliveries wait and retry instead of
 * failing, with an alert saying what to check, so fixing the secret
 * delivers them without a replay.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createIsolateMemory } from "../../src/push/credential-cache";
import { createProviders } from "../../src/push/providers";
import { freshApnsKey, requests } from "../support/standins";
import { alertOf, eventDeliveries, job, queued, registerDevice, runBatch } from "../support/delivery";
import { apnsKey } from "../support/push";
import { apnsToken, uniqueId } from "../support/webhook";

describe("refused credentials", () => {
  it("keep the delivery retrying with a delay, and once the key is fixed the next attempt sends it", async () => {
    const key = await freshApnsKey();
    const impostor = await apnsKey();
    const customId = uniqueId("emp");
    const token = apnsToken();
    await registerDevice({ provider: "apns", token, custom_id: customId });
    const event = job([queued({ custom_id: customId })]);

    // APNS_KEY holds a key Apple does not know (the key id and team are right).
    const wrong = createProviders({ ...env, ...key.config, APNS_KEY: impostor.pem }, {}, createIsolateMemory());
    const start = Date.now();
    const refused = await runBatch([event], { providers: wrong, now: () => start, random: () => 0 });
    expect(refused.retried.get(refused.ids[0]!)).toBeGreaterThan(0);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "retrying", error: "provider_misconfigured:InvalidProviderToken" });
    expect(await alertOf("provider_misconfigured", "apns", "default", "InvalidProviderToken")).toMatchObject({ check: expect.stringContaining("APNS_KEY_ID") });
    expect((await requests(token)).map((r) => r.reason)).toEqual(["InvalidProviderToken", "InvalidProviderToken"]);

    // The fixed secret is a new deployment: new isolates, empty memory.
    const fixed = createProviders({ ...env, ...key.config }, {}, createIsolateMemory());
    const next = await runBatch([event], { providers: fixed, now: () => start + 60_000 }, 2);
    expect(next.acked).toEqual(next.ids);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "sent", attempts: 2 });
  });
});
