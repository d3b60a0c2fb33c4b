/**
 * Unicode text as D1 can keep it. D1 stores UTF-8, and a lone UTF-16
 * surrogate has no UTF-8 form: it comes back as U+FFFD, a different
 * string. An identifier (a user id, a token, an app name) that changed on
 * the way in would be a different key, so such a value is refused where it
 * enters; display text (a title, a body) is made well-formed instead.
 */

/** True when `value` is well-formed UTF-16, so it encodes to UTF-8 and back unchanged. */
export function isWellFormed(value: string): boolean {
  return value.isWellFormed();
}

/** `value` with every lone surrogate replaced by U+FFFD, as a UTF-8 round trip would do. */
export function toWellFormed(value: string): string {
  return value.toWellFormed();
}

/** The reason an identifier that is not well-formed is refused, for a 400's or a rejection's message. */
export const NOT_WELL_FORMED = "must be well-formed Unicode text: a lone UTF-16 surrogate has no UTF-8 form and would be stored as another value";
