/**
 * Random faults for a share of push requests, for fault-injection tests and
 * benchmarks: throttling, server errors, a request left hanging, a reset
 * connection, a push accepted whose answer is then lost, or any preset answer (a burst of dead tokens, a wrong service
 * account). A seed makes the sequence repeatable.
 */
import type { Answer } from "./http.ts";
import { isPreset, scripted } from "./presets.ts";
import type { FailRateConfig, FaultMode, Preset, PushProviderName } from "./types.ts";

const MODES = new Set<string>(["429", "500", "503", "hang", "reset", "drop_answer"]);
const DEFAULT_HANG_MS = 30_000;

/** mulberry32: small, fast, and good enough to pick faults. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Why `value` is not a FailRateConfig, or null when it is one. */
export function failRateProblem(value: unknown): string | null {
  const config = value as Partial<FailRateConfig> | null;
  if (typeof config?.rate !== "number" || !(config.rate >= 0 && config.rate <= 1)) return "rate must be a number from 0 to 1";
  if (
    config.modes !== undefined &&
    (!Array.isArray(config.modes) || config.modes.length === 0 || !config.modes.every((m) => MODES.has(m)))
  ) {
    return 'modes must be a non-empty list of "429", "500", "503", "hang", "reset", "drop_answer"';
  }
  if (config.preset !== undefined && !isPreset(config.preset)) return `unknown preset ${String(config.preset)}`;
  if (config.seed !== undefined && typeof config.seed !== "number") return "seed must be a number";
  if (config.hangMs !== undefined && typeof config.hangMs !== "number") return "hangMs must be a number";
  if (config.token_prefix !== undefined && typeof config.token_prefix !== "string") return "token_prefix must be a string";
  return null;
}

/** The fault answer for `mode`, in the provider's own words. */
function faultAnswer(mode: FaultMode, provider: PushProviderName, hangMs: number, nowMs: number): Answer {
  // drop_answer: the push flow accepts the push first (push-flow.ts); a caller that cannot just resets.
  if (mode === "reset" || mode === "drop_answer") return { status: 0, reset: true };
  if (mode === "hang") return { status: 0, reset: true, delayMs: hangMs };
  const presets = {
    fcm: { "429": "quota_exceeded", "500": "internal", "503": "unavailable" },
    apns: { "429": "apns_too_many_requests", "500": "apns_internal_server_error", "503": "apns_service_unavailable" },
    expo: { "429": "expo_too_many_requests", "500": "expo_internal_server_error", "503": "expo_service_unavailable" },
    onesignal: { "429": "onesignal_rate_limited", "500": "onesignal_internal_server_error", "503": "onesignal_service_unavailable" },
    hms: { "429": "hms_flow_control", "500": "hms_internal_error", "503": "hms_flow_control" },
  } as const;
  const result = scripted({ preset: presets[provider][mode] }, nowMs);
  return "answer" in result ? result.answer : { status: 500 };
}

interface FaultSetting {
  rate: number;
  modes: FaultMode[];
  preset: Preset | undefined;
  hangMs: number;
  random: () => number;
}

/** The fail-rate settings, by device-token prefix ("" for every push). */
export class Faults {
  #settings = new Map<string, FaultSetting>();

  configure(config: FailRateConfig): void {
    const prefix = config.token_prefix ?? "";
    if (config.rate <= 0) {
      this.#settings.delete(prefix);
      return;
    }
    this.#settings.set(prefix, {
      rate: config.rate,
      modes: config.modes ?? ["503"],
      preset: config.preset,
      hangMs: config.hangMs ?? DEFAULT_HANG_MS,
      random: config.seed === undefined ? Math.random : seeded(config.seed),
    });
  }

  clear(): void {
    this.#settings.clear();
  }

  /** The setting with the longest prefix of `token`. */
  #settingFor(token: string): FaultSetting | undefined {
    let best: FaultSetting | undefined;
    let bestLength = -1;
    for (const [prefix, setting] of this.#settings) {
      if (prefix.length > bestLength && token.startsWith(prefix)) {
        best = setting;
        bestLength = prefix.length;
      }
    }
    return best;
  }

  /** A fault for this request, or null (most of the time). */
  next(provider: PushProviderName, token: string, nowMs: number): { mode: FaultMode | Preset; answer: Answer } | null {
    if (this.#settings.size === 0) return null;
    const setting = this.#settingFor(token);
    if (!setting || setting.random() >= setting.rate) return null;
    if (setting.preset) {
      const result = scripted({ preset: setting.preset }, nowMs);
      return { mode: setting.preset, answer: "answer" in result ? result.answer : { status: 500 } };
    }
    const mode = setting.modes[Math.floor(setting.random() * setting.modes.length)] ?? "503";
    return { mode, answer: faultAnswer(mode, provider, setting.hangMs, nowMs) };
  }
}
