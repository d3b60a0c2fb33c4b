import { describe, expect, it } from "vitest";
import { ConsoleClient } from "../support/console";
import { freshApnsKey, freshServiceAccount } from "../support/standins";

const OFF: Partial<Env> = { EXPO_ACCESS_TOKEN: "", ONESIGNAL_APP_ID: "", ONESIGNAL_API_KEY: "", HMS_APP_ID: "", HMS_APP_SECRET: "", APPS: "" };

describe("console: Check settings", () => {
  it("the overview's button posts with the CSRF token and the page shows each provider's answer", async () => {
    const [fcm, apns] = await Promise.all([freshServiceAccount(), freshApnsKey()]);
    const browser = new ConsoleClient({ ...OFF, ...fcm.config, ...apns.config, APNS_TOPIC: "com.example.app" });
    await browser.signIn();
    const overview = await browser.page("/admin");
    expect(overview.html).toMatch(/<form class="inline" method="post" action="\/admin\/check"><input type="hidden" name="_csrf" value="[^"]+"\/><button type="submit" class="primary">Check settings<\/button>/);

    const response = await browser.post("/admin/check");
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Some settings are refused");
    expect(html).toMatch(/data-provider="fcm" data-app="default" data-ok="true"/);
    expect(html).toMatch(/data-provider="apns" data-app="default" data-ok="false"/);
    expect(html).toContain(`APNs refuses topic com.example.app for team ${apns.teamId} (TopicDisallowed)`);
  });

  it("refuses the check without the CSRF token", async () => {
    const browser = new ConsoleClient(OFF);
    await browser.signIn();
    await browser.page("/admin");
    expect((await browser.post("/admin/check", {}, { csrf: null })).status).toBe(403);
  });
});
