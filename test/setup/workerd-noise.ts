/**
 * Hides workerd's own log lines for connections the stand-ins reset on
 * purpose (the fault tests do it hundreds of times), so that a passing run
 * ends in its summary instead of pages of stack traces a newcomer reads as
 * failures. The Worker's code sees each reset as a rejected fetch and the
 * tests assert on what it did; the lines add nothing.
 *
 * Where they come from: workerd writes structured logs to its stderr,
 * Miniflare parses them and hands each message to the vitest plugin's
 * `handleStructuredLogs`, which writes it with one `write` call to the main
 * vitest process's stdout (stderr for warnings and errors). The plugin does
 * not let a project replace that handler, so the filter sits just after
 * it, on those two streams in the main process (the global setup runs
 * there), and drops a write only when the whole write is one of these
 * messages.
 * Set RELAY_TEST_SHOW_RESETS=1 to see them anyway.
 */

/** Hex addresses or paths on the `stack:` line workerd prints after an internal exception. */
const STACK = String.raw`stack:[^\n]*`;

/**
 * The messages, whole (each write is one message and its newline):
 * - the HTTP client's view of the reset, from workerd's Rust layer;
 * - the same reset as a JS error, in two lines: workerd reports the
 *   rejection of its internal request-body promise as uncaught, although
 *   the Worker's own `fetch` promise is handled (it becomes a network error).
 */
const EXPECTED: RegExp[] = [
  new RegExp(String.raw`^exception = \S+: disconnected: client error \(SendRequest\)\n${STACK}\n?$`),
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: Network connection lost\.\n?$/,
  new RegExp(String.raw`^uncaught exception; exception = \S+: disconnected: jsg\.Error: Network connection lost\.\n${STACK}\n?$`),
];

/** True when `chunk` is exactly one of workerd's expected connection-reset messages. */
export function isExpectedResetNoise(chunk: string): boolean {
  return EXPECTED.some((pattern) => pattern.test(chunk));
}

/**
 * Filters those writes out of `process.stdout` and `process.stderr` (the
 * plugin writes workerd's info-level messages, these included, to stdout)
 * until `restore` is called; `hidden` counts what it dropped.
 */
export function hideExpectedResetNoise(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): { restore: () => void; hidden: () => number } {
  let hidden = 0;
  const originals = streams.map((stream) => {
    const write = stream.write;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : null;
      if (text !== null && isExpectedResetNoise(text)) {
        hidden++;
        const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
        if (callback) queueMicrotask(callback);
        return true;
      }
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as NodeJS.WriteStream["write"];
    return { stream, write };
  });
  return {
    restore: () => {
      for (const { stream, write } of originals) stream.write = write;
    },
    hidden: () => hidden,
  };
}
