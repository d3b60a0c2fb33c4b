/**
 * The stand-ins' control API as the bench and the load test read it: push
 * counters, the recorded pushes, reset and fault injection.
 */
import type { FailRateConfig, PushFilter, RecordedPush, ScriptedResponse, StandinStats } from "../standins/index.ts";

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init?.method ?? "GET"} ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

export class StandinClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  stats(): Promise<StandinStats> {
    return call(`${this.url}/__standin/stats`);
  }

  /** Accepted pushes, fcm and apns together. */
  async pushCount(): Promise<number> {
    const stats = await this.stats();
    return stats.fcm_pushes + stats.apns_pushes;
  }

  async pushes(filter: PushFilter = {}): Promise<RecordedPush[]> {
    const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined));
    const { pushes } = await call<{ pushes: RecordedPush[] }>(`${this.url}/__standin/pushes?${query}`);
    return pushes;
  }

  /** Forgets recorded pushes, scripts and faults (credentials stay valid). */
  async reset(): Promise<void> {
    await call(`${this.url}/__standin/reset`, { method: "POST" });
  }

  /** The next answers for one device token, in order; then back to normal. */
  async script(token: string, responses: ScriptedResponse[]): Promise<void> {
    await call(`${this.url}/__standin/script`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, responses }),
    });
  }

  async failRate(config: FailRateConfig): Promise<void> {
    await call(`${this.url}/__standin/fail-rate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(config),
    });
  }

  /**
   * Polls until `target` pushes were accepted in total, or nothing new came
   * for `idleMs` (then returns what it has, so a loss shows as a shortfall).
   */
  async waitForPushes(target: number, options: { idleMs: number; intervalMs?: number }): Promise<number> {
    let count = await this.pushCount();
    let lastChange = Date.now();
    while (count < target && Date.now() - lastChange < options.idleMs) {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
      const now = await this.pushCount();
      if (now !== count) lastChange = Date.now();
      count = now;
    }
    return count;
  }
}
