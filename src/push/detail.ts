/**
 * The provider's own words about a failure, fit to keep with it: trimmed,
 * cut to a line an operator reads at a glance, and with no device token in
 * it (a token is a credential of the device, and the ledger names the
 * device already).
 */

/** The longest detail kept. */
export const MAX_DETAIL_LENGTH = 200;

/** `text` trimmed, without any of `tokens`, at most MAX_DETAIL_LENGTH characters; undefined when nothing is left. */
export function providerDetail(text: unknown, tokens: readonly string[] = []): string | undefined {
  if (typeof text !== "string") return undefined;
  let clean = text;
  for (const token of tokens) if (token !== "") clean = clean.split(token).join("…");
  clean = clean.replace(/\s+/g, " ").trim();
  if (clean === "") return undefined;
  return clean.length > MAX_DETAIL_LENGTH ? `${clean.slice(0, MAX_DETAIL_LENGTH - 1)}…` : clean;
}
