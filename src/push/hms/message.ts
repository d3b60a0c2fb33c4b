/**
 * The body of a Push Kit `messages:send` request: one notification for a
 * list of tokens (a user's Huawei phones), shown by the system tray
 * (`android.notification`), opening the app on a tap, with the tap data as
 * a JSON string in `message.data`, and the same 24-hour lifetime as the
 * other providers.
 *
 * `click_action.type` (Push Kit's AndroidClickAction): 1 opens a page of
 * the app named by `intent` or `action`, 2 a URL in the browser, 3 the app
 * itself. The relay cannot know an app's pages, and a URL would leave the
 * app, so it sends 3: the app starts and reads `path` from the data.
 */
import { PUSH_LIFETIME_S } from "../lifetime";
import { fitText, jsonBytes, type VisibleText } from "../payload";
import type { PushMessage } from "../provider";

/** Push Kit takes at most 1,000 tokens per request (80300010 beyond). */
export const HMS_MAX_TOKENS = 1000;

/** What the app reads when the user taps the notification (all strings, as DESIGN.md says of HMS). */
export interface HmsData {
  path: string;
  url: string;
  event_id: string;
  index: string;
}

export interface HmsRequestBody {
  validate_only: boolean;
  message: {
    token: string[];
    /** HmsData as a JSON string: Push Kit's `data` is a string. */
    data: string;
    android: {
      ttl: string;
      notification: VisibleText & { click_action: { type: 3 }; tag: string };
    };
  };
}

/**
 * The request for `tokens`, with title and body shortened so the message
 * stays within Push Kit's 4,096 bytes (counted without the tokens).
 */
export function hmsRequestBody(tokens: string[], message: PushMessage, tag: string, validateOnly = false): HmsRequestBody {
  const data: HmsData = { path: message.path, url: message.url, event_id: message.event_id, index: String(message.index) };
  const build = (text: VisibleText): HmsRequestBody => ({
    validate_only: validateOnly,
    message: {
      token: tokens,
      data: JSON.stringify(data),
      android: {
        ttl: `${PUSH_LIFETIME_S}s`,
        // A resend of the same notification replaces the first in the tray rather than stacking.
        // Push Kit needs a title: a notification without one (the webhook allows it) shows its body there.
        notification: { title: text.title || text.body, body: text.body, click_action: { type: 3 }, tag },
      },
    },
  });
  return build(fitText({ title: message.title, body: message.body }, (text) => hmsPayloadBytes(build(text))));
}

/** What Push Kit counts against 4,096 bytes: the message without its tokens. */
export function hmsPayloadBytes(body: HmsRequestBody): number {
  const { token: _tokens, ...rest } = body.message;
  return jsonBytes(rest);
}
