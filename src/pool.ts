/**
 * Runs tasks with a fixed number in flight: the consumer's pushes and the
 * webhook's queue sends (6: a Worker invocation has at most 6 connections
 * waiting for response headers at once, so more in flight would only queue
 * inside the runtime), and the benchmark's requests. It imports nothing, so
 * Node loads it too.
 */

/**
 * Calls `task` for each item, at most `concurrency` at a time, and stops
 * starting new ones once `shouldStart()` returns false. Returns the items
 * that were never started.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
  shouldStart: () => boolean = () => true,
): Promise<T[]> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && shouldStart()) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return items.slice(next);
}
