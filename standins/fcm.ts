/**
 * Stand-in for FCM HTTP v1 `projects/:project_id/messages:send`: requires an
 * unexpired access token from the stand-in's /token for a service account
 * of that project, checks the message as FCM does, then hands it to the
 * push flow (script, fault, or accepted with a message name).
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { StandinContext } from "./context.ts";
import { checkFcmBody } from "./fcm-message.ts";
import { permissionDenied, unauthenticated } from "./google-errors.ts";
import { json, requestHeaders, type Answer } from "./http.ts";
import { answerByChecks, settle } from "./push-flow.ts";
import type { RecordedPush } from "./types.ts";

function stringAt(value: unknown, key: string): string | null {
  const field = (value as Record<string, unknown> | undefined)?.[key];
  return typeof field === "string" ? field : null;
}

/** The client_email behind a valid access token for `projectId`, or the 401 to answer. */
function authorize(
  context: StandinContext,
  authorization: string | undefined,
  projectId: string,
): { account: string } | { refusal: Answer } {
  if (!authorization) return { refusal: unauthenticated("CREDENTIALS_MISSING") };
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  const entry = match?.[1] ? context.credentials.accessToken(match[1]) : undefined;
  if (!entry) return { refusal: unauthenticated("ACCESS_TOKEN_TYPE_UNSUPPORTED") };
  if (entry.expiresAt <= context.now()) return { refusal: unauthenticated("ACCESS_TOKEN_EXPIRED") };
  // A valid token of an account without a role in that project (another project's account, or a
  // project_id that names no project of it): Google's IAM refusal, before the message is looked at.
  if (entry.project_id !== projectId) return { refusal: permissionDenied(projectId) };
  return { account: entry.client_email };
}

/** `POST /v1/projects/:project_id/messages:send` */
export function handleFcmSend(context: StandinContext, request: IncomingMessage, projectId: string, body: Buffer): Answer {
  const checked = checkFcmBody(body);
  const token = checked.token;
  const eventId = checked.ok ? stringAt(checked.message.data, "event_id") : checked.eventId;
  const auth = authorize(context, request.headers.authorization, projectId);
  if ("refusal" in auth) return answerByChecks(context, "fcm", token, eventId, auth.refusal);
  if (!checked.ok) return answerByChecks(context, "fcm", token, eventId, checked.answer);

  if (checked.validateOnly) {
    // FCM checks a validate_only message and answers this fixed name without delivering it.
    const dryRun = json(200, { name: `projects/${projectId}/messages/fake_message_id` });
    return answerByChecks(context, "fcm", token, eventId, dryRun);
  }
  const { message } = checked;
  const push: RecordedPush = {
    provider: "fcm",
    token,
    title: stringAt(message.notification, "title"),
    body: stringAt(message.notification, "body"),
    path: stringAt(message.data, "path"),
    url: stringAt(message.data, "url"),
    event_id: eventId,
    headers: requestHeaders(request),
    payload: checked.payload,
    received_at: context.now(),
  };
  const name = `projects/${projectId}/messages/0:${context.now()}%${randomBytes(8).toString("hex")}`;
  return settle(context, { push, account: auth.account, accepted: json(200, { name }) });
}
