/**
 * What a batch's answers say beyond each delivery: which tokens are dead
 * (the pruning brake weighs them against the accepted ones), which answers
 * mean a wrong setting (alerts), and which pushes went through (they clear
 * alerts). Pure, so a table test covers it. The record step acts on it in
 * its own transaction; `logSignals` then writes one line per alert and
 * batch, never one per push.
 */
import type { AlarmInput, MisconfiguredAnswers } from "../db/alerts";
import type { Recorded } from "../db/ledger-writes";
import { BRAKE_CHECK, type DeadToken, type PruneInput, type TokenAnswers } from "../db/pruning";
import { log } from "../log";
import { misconfiguration } from "../push/providers";
import type { Attempted } from "./outcomes";

export type Signals = PruneInput & AlarmInput;

const pairKey = (...parts: string[]) => parts.join("\u0000");

/**
 * Reads the batch's answers. Sends that got no answer about the token
 * (retries, our own failures) count for nothing. `sentAt` is when the
 * batch's sends began: a dead answer prunes only a registration older.
 */
export function readSignals(attempted: readonly Attempted[], sentAt: number): Signals {
  const answers = new Map<string, TokenAnswers>();
  const dead: DeadToken[] = [];
  const misconfigured = new Map<string, MisconfiguredAnswers>();
  const accepted = new Map<string, { provider: string; app: string; ios: boolean }>();
  for (const { work, device, result } of attempted) {
    const { provider, app } = device;
    // An Expo ticket only says Expo took the push: whether the token works (and whether the app's
    // credentials do) its receipt says, 15 minutes later (expo-receipts.ts counts it then).
    if (result.kind === "sent" && provider === "expo") continue;
    if (result.kind === "sent" || result.kind === "invalid_token") {
      const tally = answers.get(pairKey(provider, app)) ?? { provider, app, answered: 0, dead: 0 };
      answers.set(pairKey(provider, app), tally);
      tally.answered++;
      if (result.kind === "invalid_token") {
        tally.dead++;
        dead.push({ token: device.token, provider, app, reason: result.reason, sentAt: result.since ?? sentAt });
      } else {
        const pushes = accepted.get(pairKey(provider, app)) ?? { provider, app, ios: false };
        accepted.set(pairKey(provider, app), pushes);
        pushes.ios ||= device.platform === "ios";
      }
    } else if (result.kind === "misconfigured") {
      const key = pairKey(provider, app, result.reason);
      const alarm = misconfigured.get(key) ?? { provider, app, reason: result.reason, answers: 0, lastEventId: "" };
      misconfigured.set(key, alarm);
      alarm.answers++;
      alarm.lastEventId = work.job.event_id;
    }
  }
  return {
    tokenAnswers: [...answers.values()],
    deadTokens: dead,
    misconfigured: [...misconfigured.values()],
    accepted: [...accepted.values()],
  };
}

/** One log line per alert this batch raised, counted or cleared, and per provider and app the brake held devices of. */
export function logSignals(signals: Pick<Signals, "misconfigured">, recorded: Pick<Recorded, "pruned" | "alerts">): void {
  const batch = new Map(signals.misconfigured.map((m) => [pairKey(m.provider, m.app, m.reason), m]));
  for (const alert of recorded.alerts.raised) {
    const mine = batch.get(pairKey(alert.provider, alert.app, alert.reason));
    log(
      "alert",
      {
        kind: "provider_misconfigured",
        provider: alert.provider,
        app: alert.app,
        reason: alert.reason,
        answers: mine?.answers ?? 0,
        total: alert.count,
        since: new Date(alert.since).toISOString(),
        event_id: mine?.lastEventId ?? null,
        check: misconfiguration(alert.provider, alert.reason).check,
      },
      "error",
    );
  }
  for (const alert of recorded.alerts.cleared) {
    log("alert", { kind: "provider_misconfigured", provider: alert.provider, app: alert.app, reason: alert.reason, cleared: true, since: new Date(alert.since).toISOString() });
  }
  const held = new Map<string, { provider: string; app: string; devices: number; reason: string }>();
  for (const device of recorded.pruned.quarantined) {
    const key = pairKey(device.provider, device.app);
    const entry = held.get(key) ?? { provider: device.provider, app: device.app, devices: 0, reason: device.reason };
    held.set(key, entry);
    entry.devices++;
  }
  for (const entry of held.values()) {
    log(
      "alert",
      { kind: "pruning_brake", provider: entry.provider, app: entry.app, quarantined: entry.devices, reason: entry.reason, check: BRAKE_CHECK },
      "error",
    );
  }
}
