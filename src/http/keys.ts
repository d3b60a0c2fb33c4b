/**
 * Bearer keys (RELAY_API_KEY, RELAY_REGISTER_KEY) are compared in constant
 * time with every configured key: both sides are hashed first, so neither a
 * key's length nor its prefix shows in how long a refusal takes.
 */

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/** True if `presented` equals one of `keys`; every key is compared, whichever matches. */
export async function matchesAnyKey(presented: string, keys: readonly string[]): Promise<boolean> {
  const given = await digest(presented);
  let match = false;
  for (const key of keys) {
    // No early exit: the time taken does not say which key matched.
    if (crypto.subtle.timingSafeEqual(given, await digest(key))) match = true;
  }
  return match;
}
