/**
 * The one way providers talk to the network: a fetch with a timeout whose
 * timer is cleared as soon as the answer (body included) is in, because an
 * uncleared timer keeps the Worker invocation open. The body is always read,
 * so no connection is left waiting on an unconsumed stream.
 */
import type { ProviderDeps } from "./provider";

/** What came back: an answer with its parsed body, or why none did. */
export type HttpOutcome =
  | { kind: "answer"; status: number; headers: Headers; body: unknown }
  | { kind: "timeout" }
  | { kind: "network_error"; error: string };

/** Sends one request within `deps.timeoutMs`; never throws. */
export async function request(deps: ProviderDeps, url: string, init: RequestInit): Promise<HttpOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deps.timeoutMs);
  try {
    const response = await deps.fetch(url, { ...init, signal: controller.signal });
    const text = await response.text();
    return { kind: "answer", status: response.status, headers: response.headers, body: parseJson(text) };
  } catch (error) {
    if (controller.signal.aborted) return { kind: "timeout" };
    return { kind: "network_error", error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Providers answer JSON, but a proxy in between may not: keep the text then. */
function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
