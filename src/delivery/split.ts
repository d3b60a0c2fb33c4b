/**
 * The end of a batch: each message acked, retried whole, or split into
 * groups that wait apart (delays.ts decides which; this does it). A group
 * goes back as a message of its own, carrying the attempts spent so far.
 */
import { log } from "../log";
import { enqueueJobs } from "../queue/enqueue";
import type { PushJob } from "../queue/message";
import type { Settler } from "./batch";
import { type MessageAction, messageAction, type Waits } from "./delays";

/** A message's deliveries so far: Queues' count, plus those of the messages it was split off. */
export const attemptsOf = (message: Message<unknown>, job: PushJob) => (job.attempts_before ?? 0) + message.attempts;

interface Action {
  message: Message<unknown>;
  job: PushJob;
  action: MessageAction;
}

/** Settles every message of the batch by what waits in it; resolves with the messages split off. */
export async function settleMessages(
  jobs: readonly { message: Message<unknown>; job: PushJob }[],
  waits: Waits,
  queue: Queue,
  settler: Settler,
): Promise<number> {
  const actions = jobs.map(({ message, job }) => ({ message, job, action: messageAction(job, attemptsOf(message, job), waits) }));
  const split = await splitOff(queue, actions);
  for (const { message, action } of actions) {
    if (action.kind === "retry") settler.retry(message, action.delaySeconds);
    else settler.ack(message);
  }
  return split;
}

/**
 * Queues each group a split message leaves, with its own delay; resolves
 * with the messages queued. Should the queue refuse them, each such message
 * is retried whole after its longest wait instead (what waits is never
 * lost; it only waits together again).
 */
async function splitOff(queue: Queue, actions: Action[]): Promise<number> {
  const byDelay = new Map<number, PushJob[]>();
  for (const { message, job, action } of actions) {
    if (action.kind !== "split") continue;
    for (const group of action.groups) {
      const split: PushJob = { ...job, notifications: group.notifications, attempts_before: attemptsOf(message, job) };
      const jobs = byDelay.get(group.delaySeconds);
      if (jobs) jobs.push(split);
      else byDelay.set(group.delaySeconds, [split]);
    }
  }
  if (byDelay.size === 0) return 0;
  try {
    await Promise.all([...byDelay].map(([delaySeconds, jobs]) => enqueueJobs(queue as Queue<PushJob>, jobs, { delaySeconds })));
    return [...byDelay.values()].reduce((n, jobs) => n + jobs.length, 0);
  } catch (error) {
    log("consumer_error", { reason: "split_failed", error: String(error) }, "warn");
    for (const entry of actions) {
      if (entry.action.kind !== "split") continue;
      entry.action = { kind: "retry", delaySeconds: Math.max(...entry.action.groups.map((g) => g.delaySeconds)) };
    }
    return 0;
  }
}
