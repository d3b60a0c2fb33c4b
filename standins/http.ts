/**
 * The little HTTP plumbing every route shares: an `Answer` value that routes
 * return instead of writing to the response themselves (so scripts and
 * faults can replace it), reading a bounded body, and writing an answer
 * after an optional delay, or dropping the connection instead.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** What a route answers. */
export interface Answer {
  status: number;
  /** undefined: empty body; a string or Buffer: sent as is; anything else: JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (or resetting). */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
}

/** A JSON answer. */
export function json(status: number, body: unknown, headers?: Record<string, string>): Answer {
  return headers ? { status, body, headers } : { status, body };
}

/** The request body, or null when it is longer than `limit` bytes. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let length = 0;
  let tooLong = false;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limit) tooLong = true;
    else chunks.push(chunk);
  }
  return tooLong ? null : Buffer.concat(chunks, length);
}

/** The request's headers, lower-case, without `authorization` (recorded with each push). */
export function requestHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name !== "authorization" && value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/** Timers of delayed answers, cleared on close so nothing outlives the server. */
export class PendingTimers {
  #timers = new Set<NodeJS.Timeout>();

  after(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  clear(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

function write(response: ServerResponse, answer: Answer): void {
  if (response.destroyed) return;
  if (answer.reset) {
    response.socket?.destroy();
    return;
  }
  let body: string | Buffer = "";
  const headers: Record<string, string> = { ...answer.headers };
  if (typeof answer.body === "string" || Buffer.isBuffer(answer.body)) {
    body = answer.body;
  } else if (answer.body !== undefined) {
    body = JSON.stringify(answer.body);
    headers["content-type"] ??= "application/json; charset=UTF-8";
  }
  headers["content-length"] = String(Buffer.byteLength(body));
  response.writeHead(answer.status, headers);
  response.end(body);
}

/** Writes `answer`, after its delay if it has one. */
export function respond(response: ServerResponse, answer: Answer, timers: PendingTimers): void {
  if (answer.delayMs && answer.delayMs > 0) timers.after(answer.delayMs, () => write(response, answer));
  else write(response, answer);
}
