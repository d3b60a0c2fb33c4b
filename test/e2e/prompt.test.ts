/**
 * The deploy's terminal prompts (scripts/lib/prompt.ts) fed through plain
 * streams: a hidden answer is never echoed, Backspace edits it, a paste
 * arrives whole, Ctrl-C cancels; a visible answer is one trimmed line.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { PromptCancelled, ask, askHidden } from "../../scripts/lib/prompt.ts";

function terminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = "";
  output.on("data", (chunk: Buffer) => (shown += chunk.toString()));
  return { io: { input, output }, input, shown: () => shown };
}

describe("askHidden", () => {
  it.each([
    ["typed with a correction", ["s3cr", "x\u007f", "et\r"], "s3cret"],
    ["pasted in one chunk with its line break", ["whsec_abc+/=\n"], "whsec_abc+/="],
    ["nothing (Enter)", ["\r"], ""],
  ])("reads a value %s and never echoes it", async (_, chunks, expected) => {
    const t = terminal();
    const answer = askHidden("Value: ", t.io);
    for (const chunk of chunks) t.input.write(chunk);
    await expect(answer).resolves.toBe(expected);
    expect(t.shown()).toBe("Value: \n");
  });

  it("cancels on Ctrl-C", async () => {
    const t = terminal();
    const answer = askHidden("Value: ", t.io);
    t.input.write("abc\u0003");
    await expect(answer).rejects.toBeInstanceOf(PromptCancelled);
  });
});

describe("ask", () => {
  it("reads one visible line, trimmed", async () => {
    const t = terminal();
    const answer = ask("Path: ", t.io);
    t.input.write("  ~/keys/service-account.json \nrest\n");
    await expect(answer).resolves.toBe("~/keys/service-account.json");
    expect(t.shown()).toBe("Path: ");
  });
});
