// The runs filter box: where the server says a filter went wrong, and what can be filtered on.

/**
 * The character index the server's message points at. Search errors end with `at position N`,
 * N counted in UTF-8 bytes of the filter; the box needs a JavaScript string index.
 */
export function errorIndex(filter: string, message: string): number | null {
  const found = /at position (\d+)/.exec(message);
  if (!found) return null;
  const byte = Number(found[1]);
  if (!Number.isSafeInteger(byte)) return null;
  return byteToIndex(filter, byte);
}

/** The string index where UTF-8 byte offset `byte` falls (clamped to the string's end). */
export function byteToIndex(text: string, byte: number): number {
  const encoder = new TextEncoder();
  let bytes = 0;
  let index = 0;
  for (const char of text) {
    if (bytes >= byte) return index;
    bytes += encoder.encode(char).length;
    index += char.length;
  }
  return text.length;
}

/** The filter split around the error, for showing a marker under the offending character. */
export function markError(filter: string, index: number): { before: string; at: string; after: string } {
  const clamped = Math.max(0, Math.min(index, filter.length));
  const rest = filter.slice(clamped);
  const at = rest.length ? String.fromCodePoint(rest.codePointAt(0)!) : "";
  return { before: filter.slice(0, clamped), at, after: rest.slice(at.length) };
}

/** The identifier to filter or order on for a column: `metrics.acc`, `params.lr`, `tags.\`a b\``. */
export function identifier(kind: "metrics" | "params" | "tags" | "attributes", key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(key) ? `${kind}.${key}` : `${kind}.\`${key.replace(/`/g, "")}\``;
}
