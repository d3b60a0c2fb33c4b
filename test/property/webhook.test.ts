/**
 * Property: signed webhook bodies generated from LearnInk's schema, with
 * hostile strings (lone surrogates, controls, token-named parameters,
 * escapes) in every field. Every answer is 200, 400 or 413 with an error
 * code; once the queue has drained, every notification of a 200 is final
 * or waiting for a retry, none left `sending` (read through the public
 * `GET /v1/events/:id`, so it holds whatever the ledger looks like inside);
 * and no push carries a link outside the organisation or a token
 * parameter. Seeded and bounded (test/support/property.ts).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { foldedName } from "../../src/token-param";
import { drainLikeTheQueue, eventDeliveries, ownProviders, registerDevice } from "../support/delivery";
import { anyValue, holds, hostileString, PROPERTY_TIMEOUT_MS } from "../support/property";
import { pushes } from "../support/standins";
import { capturingQueue, fcmToken, fetchWith, notificationsSent, signedRequest, uniqueId } from "../support/webhook";

/** Users with a device, so that some generated notifications are really pushed. */
const USERS = [uniqueId("prop-a"), uniqueId("prop-b"), uniqueId("prop-c")];
const ORG_PREFIX = "https://m.learn.ink/acme/";

beforeAll(async () => {
  for (const id of USERS) await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: id, user_id: id });
});

const pathArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("/courses/safety-101", "/a?step=1", "/", "/cours/é 1#part") },
  fc.tuple(fc.constantFrom("/courses/", "/", "/a?step=1&"), hostileString()).map(([head, tail]) => head + tail),
  hostileString(),
);
const userArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...USERS) }, hostileString(20));
const FIELDS = ["title", "body", "path", "user_id", "custom_id"] as const;

/**
 * A notification as LearnInk's schema shapes it, with hostile strings in
 * every field; sometimes one field of the wrong kind altogether, and
 * fields LearnInk may add one day (never a reason to reject).
 */
const notificationArb = fc
  .tuple(
    fc.record({
      title: hostileString(60),
      body: hostileString(60),
      path: pathArb,
      user_id: userArb,
      custom_id: fc.oneof(fc.constant(null), userArb),
      phone_number: fc.oneof(fc.constant(null), hostileString(10)),
    }),
    fc.option(fc.tuple(fc.constantFrom(...FIELDS), anyValue()), { freq: 3 }),
    fc.dictionary(hostileString(8), anyValue(), { maxKeys: 2 }),
  )
  .map(([known, broken, extra]) => ({ ...extra, ...known, ...(broken ? { [broken[0]]: broken[1] } : {}) }));

const eventArb = fc.oneof(
  { weight: 6, arbitrary: fc.array(notificationArb, { minLength: 1, maxLength: 4 }).map((list) => notificationsSent(list as never)) },
  fc.record({ type: anyValue(), data: anyValue() }),
  fc.array(notificationArb, { maxLength: 2 }).map((list) => notificationsSent(list as never, { data: { notifications: list[0] ?? null } })),
);

/** No parameter of the link's query or fragment reads as `token`, however it is spelled. */
function hasNoTokenParam(url: URL): boolean {
  const names = `${url.search.slice(1)}&${url.hash.slice(1)}`.split(/[?#&;]/).map((pair) => pair.split("=", 1)[0]!);
  return names.every((name) => foldedName(name) !== "token");
}

describe("property: signed webhooks with hostile fields", () => {
  it("answer 200, 400 or 413 with a code; leave nothing sending; push only links inside the organisation without a token", async () => {
    const providers = await ownProviders();
    const seen = { accepted: 0, pushes: 0 };
    await holds(
      fc.asyncProperty(eventArb, async (event) => {
        const capture = capturingQueue();
        const eventId = uniqueId("msg");
        const response = await fetchWith(signedRequest(event, { id: eventId }), { PUSH_QUEUE: capture.queue });
        const answer = (await response.json()) as { received?: boolean; error?: { code?: unknown } };
        expect([200, 400, 413]).toContain(response.status);
        if (response.status === 200) expect(answer.received).toBe(true);
        else expect(typeof answer.error?.code).toBe("string");
        if (response.status !== 200 || capture.jobs().length === 0) return;
        seen.accepted++;

        await drainLikeTheQueue(capture.jobs(), { providers });
        const recorded = await eventDeliveries(eventId);
        // Final (sent, failed, no_device, rejected, ...) or waiting for a retry: never left claimed.
        for (const delivery of recorded?.deliveries ?? []) expect(delivery.status, `notification ${delivery.index}`).not.toBe("sending");
        for (const push of await pushes({ event_id: eventId })) {
          seen.pushes++;
          const url = new URL(push.url ?? "");
          expect(`${url.origin}${url.pathname}`.startsWith(ORG_PREFIX), push.url!).toBe(true);
          expect(hasNoTokenParam(url), push.url!).toBe(true);
        }
      }),
      25,
    );
    // The generator reaches the consumer and the providers, not only the validator.
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.pushes).toBeGreaterThan(0);
  }, PROPERTY_TIMEOUT_MS);
});
