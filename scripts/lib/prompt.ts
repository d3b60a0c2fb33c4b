/**
 * Asking in a terminal: a visible answer (a file path, an account), or a
 * hidden one for a secret, typed or pasted, never echoed. Streams are
 * parameters so the behaviour can be tested without a terminal.
 */
import { createInterface } from "node:readline/promises";

export interface PromptIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  output: NodeJS.WritableStream;
}

const terminal: PromptIo = { input: process.stdin, output: process.stdout };

/** One visible line. */
export async function ask(question: string, io: PromptIo = terminal): Promise<string> {
  const rl = createInterface({ input: io.input, output: io.output, terminal: false });
  io.output.write(question);
  try {
    const line = await new Promise<string>((resolve) => {
      rl.once("line", resolve);
      rl.once("close", () => resolve(""));
    });
    return line.trim();
  } finally {
    rl.close();
  }
}

/** Thrown when the user presses Ctrl-C at a hidden prompt (raw mode swallows the signal). */
export class PromptCancelled extends Error {}

/**
 * One hidden line: the terminal goes to raw mode so nothing is echoed;
 * Enter ends it, Backspace deletes, Ctrl-C cancels. A paste arrives as one
 * chunk and is taken whole up to its first line break.
 */
export function askHidden(question: string, io: PromptIo = terminal): Promise<string> {
  io.output.write(question);
  const raw = io.input.isTTY === true && typeof io.input.setRawMode === "function";
  if (raw) io.input.setRawMode!(true);
  io.input.resume();
  let value = "";
  return new Promise<string>((resolve, reject) => {
    const finish = (error?: Error) => {
      io.input.removeListener("data", onData);
      io.input.removeListener("end", onEnd);
      if (raw) io.input.setRawMode!(false);
      io.input.pause();
      io.output.write("\n");
      if (error) reject(error);
      else resolve(value.trim());
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === "\r" || char === "\n") return finish();
        if (char === "\u0003") return finish(new PromptCancelled("cancelled"));
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else if (char >= " ") value += char;
      }
    };
    const onEnd = () => finish();
    io.input.on("data", onData);
    io.input.once("end", onEnd);
  });
}
