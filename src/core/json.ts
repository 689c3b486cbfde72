/** A JSON string needs no escaping without `"`, `\`, controls or surrogates (JSON.stringify escapes lone ones). */
const PLAIN_JSON_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/

/**
 * A string as JSON text, as `JSON.stringify` writes it: between quotes as it is when nothing in it
 * needs escaping (most values the hot paths write: keys, types, tags, dates), else by JSON.stringify.
 */
export function jsonString(value: string): string {
  return PLAIN_JSON_STRING.test(value) ? `"${value}"` : JSON.stringify(value)
}
