/**
 * Expo refuses a request whose tokens belong to more than one Expo project
 * (400 PUSH_TOO_MANY_EXPERIENCE_IDS) and lists, in the error's `details`,
 * each project with its tokens: `{ "@owner/project": ["ExponentPushToken[...]", ...] }`.
 * Nothing of such a request was sent, so it is sent again, one request per
 * project (tokens the details do not name go in a request of their own).
 */
import type { PushMessage, PushResult } from "../provider";
import { asObject } from "../verdict";

export const TOO_MANY_EXPERIENCE_IDS = "PUSH_TOO_MANY_EXPERIENCE_IDS";

/** The messages' indexes grouped by project, or null when the answer is not that refusal (or names one project only). */
export function projectsOf(body: unknown, messages: readonly PushMessage[]): number[][] | null {
  const errors = asObject(body).errors;
  const error = Array.isArray(errors) ? errors.map(asObject).find((e) => e.code === TOO_MANY_EXPERIENCE_IDS) : undefined;
  if (!error) return null;
  const projectOf = new Map<string, string>();
  for (const [project, tokens] of Object.entries(asObject(error.details))) {
    if (Array.isArray(tokens)) for (const token of tokens) if (typeof token === "string") projectOf.set(token, project);
  }
  const groups = new Map<string, number[]>();
  messages.forEach((m, i) => {
    const project = projectOf.get(m.token) ?? "";
    groups.set(project, [...(groups.get(project) ?? []), i]);
  });
  return groups.size > 1 ? [...groups.values()] : null;
}

/** Sends each project's messages with `send`, keeping the order of results. */
export async function sendByProject(
  projects: readonly number[][],
  messages: readonly PushMessage[],
  send: (part: readonly PushMessage[]) => Promise<PushResult[]>,
): Promise<PushResult[]> {
  const results: PushResult[] = new Array(messages.length);
  for (const indexes of projects) {
    const answered = await send(indexes.map((i) => messages[i]!));
    indexes.forEach((i, k) => (results[i] = answered[k] ?? { kind: "failed", reason: "expo_no_ticket" }));
  }
  return results;
}
