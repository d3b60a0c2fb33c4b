/**
 * The test output filter hides exactly workerd's three connection-reset
 * messages (as the vitest plugin writes them, one message per write) and
 * nothing else: not other workerd errors, not the Worker's own log lines
 * that mention a lost connection, not a write that carries more.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { hideExpectedResetNoise, isExpectedResetNoise } from "../setup/workerd-noise.ts";

const BIN = "/repo/node_modules/@cloudflare/workerd-linux-64/bin/workerd";
const SEND_REQUEST = `exception = rust/worker/ffi.rs:110: disconnected: client error (SendRequest)\nstack: ${BIN}@28a3c60 ${BIN}@3ac7580 ${BIN}@3692230\n`;
const UNCAUGHT = "uncaught exception; source = Uncaught (in promise); stack = Error: Network connection lost.\n";
const JSG = `uncaught exception; exception = workerd/jsg/value.h:1535: disconnected: jsg.Error: Network connection lost.\nstack: ${BIN}@3a4d9d0 ${BIN}@3a4e7b5\n`;

describe("isExpectedResetNoise", () => {
  it.each([
    ["the HTTP client's reset", SEND_REQUEST],
    ["the uncaught rejection", UNCAUGHT],
    ["the JS error with its stack", JSG],
    ["a stack of hex addresses", "exception = rust/worker/ffi.rs:110: disconnected: client error (SendRequest)\nstack: 28a3c60 3ac7580 3692230\n"],
  ])("hides %s", (_, chunk) => {
    expect(isExpectedResetNoise(chunk)).toBe(true);
  });

  it.each([
    ["another uncaught error", "uncaught exception; source = Uncaught (in promise); stack = TypeError: x is undefined\n"],
    ["another disconnect", `exception = rust/worker/ffi.rs:110: disconnected: client error (Connect)\nstack: ${BIN}@28a3c60\n`],
    ["a Worker log line about a lost connection", '{"level":"warn","event":"push_failed","error":"Network connection lost."}\n'],
    ["the noise followed by something else", `${UNCAUGHT}FAIL test/delivery/faults.test.ts\n`],
    ["something else followed by the noise", `Error: boom\n${UNCAUGHT}`],
    ["a failing test's report", "AssertionError: expected 'network_error' to be 'sent'\n"],
  ])("keeps %s", (_, chunk) => {
    expect(isExpectedResetNoise(chunk)).toBe(false);
  });
});

describe("hideExpectedResetNoise", () => {
  it("drops only the noise from the streams it wraps, counts it, and restores them", async () => {
    const out = new PassThrough();
    let written = "";
    out.on("data", (chunk: Buffer) => (written += chunk.toString()));
    const stream = out as unknown as NodeJS.WriteStream;
    const filter = hideExpectedResetNoise([stream]);
    stream.write(SEND_REQUEST);
    stream.write("kept 1\n");
    stream.write(Buffer.from(UNCAUGHT));
    const flushed = new Promise<void>((resolve) => stream.write(JSG, () => resolve()));
    await flushed;
    expect(filter.hidden()).toBe(3);
    filter.restore();
    stream.write(UNCAUGHT);
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toBe(`kept 1\n${UNCAUGHT}`);
  });
});
