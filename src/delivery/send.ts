/**
 * The send step: the claimed rows become tasks, each one request to a
 * provider. For FCM and APNs a task is one row (their APIs take one device
 * per request); for a provider that sends lists (Expo, 100 a request) a
 * task is up to that many rows of one app. Each task fills in its rows'
 * results and never throws.
 */
import type { Provider } from "../push/providers";
import { log } from "../log";
import type { PushMessage, PushProvider, PushResult } from "../push/provider";
import { tapLink, UnsafePathError } from "../link";
import type { Attempted } from "./outcomes";

/**
 * The claimed rows in the order and groups they are sent: one row per task,
 * or up to `maxBatch` of one provider and app (and, for a provider that
 * asks for it, of one queue message).
 */
export function sendTasks(mine: readonly Attempted[], providers: Record<Provider, PushProvider>): Attempted[][] {
  const tasks: Attempted[][] = [];
  const open = new Map<string, Attempted[]>();
  const messages = new Map<object, number>();
  for (const attempt of mine) {
    const provider = providers[attempt.device.provider];
    if (!provider.sendBatch) {
      tasks.push([attempt]);
      continue;
    }
    const job = attempt.work.job;
    if (!messages.has(job)) messages.set(job, messages.size);
    const scope = provider.sameMessageOnly ? `\u0000${messages.get(job)}` : "";
    const key = `${attempt.device.provider}\u0000${attempt.device.app}${scope}`;
    let task = open.get(key);
    if (!task || task.length >= (provider.maxBatch ?? 1)) {
      task = [];
      open.set(key, task);
      tasks.push(task);
    }
    task.push(attempt);
  }
  return tasks;
}

/** Sends one task and sets each of its rows' `result`. */
export async function sendTask(task: readonly Attempted[], orgId: string | undefined, providers: Record<Provider, PushProvider>): Promise<void> {
  const ready: { attempt: Attempted; message: PushMessage }[] = [];
  for (const attempt of task) {
    const message = messageFor(attempt, orgId);
    if ("kind" in message) attempt.result = message;
    else ready.push({ attempt, message });
  }
  if (ready.length === 0) return;
  const provider = providers[ready[0]!.attempt.device.provider];
  try {
    if (ready.length === 1 || !provider.sendBatch) {
      // One row (or a provider without lists): the same call FCM and APNs always get.
      for (const { attempt, message } of ready) attempt.result = await provider.send(message);
    } else {
      const results = await provider.sendBatch(ready.map((r) => r.message));
      ready.forEach(({ attempt }, i) => (attempt.result = results[i] ?? { kind: "retry", reason: "internal_error" }));
    }
  } catch (error) {
    // A provider bug must not lose the notification: retry it later.
    log("consumer_error", { reason: "provider_threw", provider: provider.name, error: String(error) }, "error");
    for (const { attempt } of ready) attempt.result = { kind: "retry", reason: "internal_error" };
  }
}

/** The push for a claimed row, or why it cannot be sent. */
function messageFor({ work, device }: Attempted, orgId: string | undefined): PushMessage | PushResult {
  if (!orgId) return { kind: "failed", reason: "org_id_not_configured" };
  let url: string;
  try {
    url = tapLink(orgId, work.n.path);
  } catch (error) {
    // The webhook rejects such paths; this refuses one that reached the ledger some other way (older rows, replays).
    return { kind: "failed", reason: error instanceof UnsafePathError ? "invalid_path" : "org_id_not_configured" };
  }
  return {
    token: device.token,
    app: device.app,
    environment: device.environment,
    title: work.n.title,
    body: work.n.body,
    path: work.n.path,
    url,
    event_id: work.job.event_id,
    index: work.n.i,
  };
}
