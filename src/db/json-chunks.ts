/**
 * Lists travel to D1 as one JSON text parameter expanded with json_each,
 * so a statement never nears D1's 100 bound parameters. A bound string may
 * hold at most 2,000,000 bytes (D1's string and row limit), counted in
 * UTF-8: a CJK character is 3 bytes but one UTF-16 unit of `length`, so a
 * list is split by its encoded size.
 */

/** Half of D1's 2,000,000-byte string limit, leaving room for the rest of the statement. */
export const MAX_PARAM_BYTES = 1_000_000;

const encoder = new TextEncoder();

/** The UTF-8 size of a string: what D1 counts. */
export const utf8Bytes = (text: string): number => encoder.encode(text).byteLength;

/** JSON arrays of the items, each at most `maxBytes` of UTF-8 (an item larger than that travels alone). */
export function chunkJson(items: readonly unknown[], maxBytes = MAX_PARAM_BYTES): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const item of items) {
    const json = JSON.stringify(item);
    const size = utf8Bytes(json) + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      bytes = 2;
    }
    current.push(json);
    bytes += size;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}
