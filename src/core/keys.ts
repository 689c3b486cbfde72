import { randomUUID } from 'node:crypto'
import { PresignError } from './errors'

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024
const MAX_FILENAME_BYTES = 255

// C0/C1 controls, and the bidi controls that make `evil\u202Egpj.exe` display as `evilexe.jpg`.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const UNSAFE_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu
// Characters AWS advises against in keys, plus those Windows refuses in file names.
const AWKWARD_IN_NAME = /[\\{}^%`[\]"<>~#|?*:]/g

const PLAIN_NAME = /^[\w()-][\w.()-]*(?: [\w.()-]+)*$/

/**
 * A file name that is safe as the last segment of a key: NFC, no directories, no controls,
 * no bidi tricks, no leading dots, at most 255 UTF-8 bytes (the extension kept when cut).
 */
export function sanitizeFilename(filename: string): string {
  // Most names are words of ASCII letters, digits, `_-.()` between single spaces, starting with
  // neither a dot nor a space: `sanitizeAnyFilename` leaves them as they are (test/core/core.test.ts).
  return filename.length <= MAX_FILENAME_BYTES && PLAIN_NAME.test(filename) ? filename : sanitizeAnyFilename(filename)
}

/** `sanitizeFilename` without its shortcut for plain names. */
export function sanitizeAnyFilename(filename: string): string {
  let name = filename.normalize('NFC')
  name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1)
  name = name.replace(/\s+/gu, ' ').replace(UNSAFE_IN_NAME, '').replace(AWKWARD_IN_NAME, '_').trim().replace(/^\.+/, '')
  if (Buffer.byteLength(name) > MAX_FILENAME_BYTES) {
    const dot = name.lastIndexOf('.')
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : ''
    name = truncateUtf8(name.slice(0, name.length - ext.length), MAX_FILENAME_BYTES - Buffer.byteLength(ext)) + ext
  }
  return name || 'file'
}

function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0
  let out = ''
  for (const char of text) {
    bytes += Buffer.byteLength(char)
    if (bytes > maxBytes) break
    out += char
  }
  return out
}

/** The default key: `<keyPrefix><uuid>/<sanitized filename>`. */
export function defaultKey(keyPrefix: string, filename: string): string {
  return `${keyPrefix}${randomUUID()}/${sanitizeFilename(filename)}`
}

/** S3's POST Object variable: replaced by the uploaded file's name. */
export const FILENAME_VARIABLE = '$' + '{filename}'

/** Why a key is refused, or undefined when it is fine. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'must be a non-empty string'
  // Printable ASCII (most keys) is well-formed, one byte a character, and free of controls.
  const plain = key.length <= MAX_KEY_BYTES && PRINTABLE_ASCII.test(key)
  if (!plain && !key.isWellFormed()) return 'must be valid Unicode'
  if (!plain && Buffer.byteLength(key) > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} UTF-8 bytes`
  if (key.startsWith('/')) return 'must not start with "/"'
  if (!plain && CONTROL.test(key)) return 'must not contain control characters'
  // A `.` or `..` segment starts the key or follows a `/`.
  if ((key.startsWith('.') || key.includes('/.')) && DOT_SEGMENT.test(key)) return 'must not contain "." or ".." segments'
  // In a POST Object form S3 replaces it with the uploaded file's name, and a policy then pins
  // only what comes before it: the uploader would choose the key.
  if (key.includes(FILENAME_VARIABLE)) return `must not contain "${FILENAME_VARIABLE}"`
  return undefined
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
/** A `.` or `..` path segment. */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/

/** Throws `invalid_key` (400) unless the key follows the rules. */
export function assertValidKey(key: unknown): asserts key is string {
  const problem = keyProblem(key)
  if (problem) throw new PresignError('invalid_key', `The object key ${problem}.`)
}

// Only spaces between parameters (`\s` would admit CR, LF, VT, U+2028: header-breaking; a tab is
// signed as a space, so the browser's header would not match), and quoted values of printable ASCII.
const CONTENT_TYPE =
  /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}( *; *[a-z0-9!#$&^_.+-]+=("[\x20\x21\x23-\x5b\x5d-\x7e]*"|[a-z0-9!#$&^_.+-]+))*$/i

/** True when the value is a well-formed media type (with optional parameters). */
export function isContentType(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 255 && CONTENT_TYPE.test(value)
}

/** A media type's essence: `Image/SVG+XML; charset=utf-8` → `image/svg+xml`. */
export function essenceOf(contentType: string): string {
  return contentType.split(';', 1)[0]!.trim().toLowerCase()
}

const SCRIPT_CAPABLE = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'text/xsl',
  'application/xslt+xml',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'text/ecmascript',
  'text/vbscript',
  'application/x-shockwave-flash',
  'application/vnd.wap.xhtml+xml',
  'multipart/x-mixed-replace',
  'text/cache-manifest',
  // Types that say "unknown": browsers sniff the bytes as if there were no type, and HTML runs
  // (WHATWG MIME Sniffing's unknown types; Firefox's own).
  'unknown/unknown',
  'application/unknown',
  'application/x-unknown-content-type',
  'application/x-unknown',
])

/**
 * Whether a browser that opens this type from the bucket's origin may run script in it (HTML,
 * SVG, XML and everything `+xml`, JavaScript, Flash, and the "unknown" types it sniffs): stored
 * XSS if it is served inline.
 */
export function isScriptCapable(contentType: string): boolean {
  const essence = essenceOf(contentType)
  return SCRIPT_CAPABLE.has(essence) || essence.endsWith('+xml') || essence.endsWith('/xml')
}

/**
 * Compiles `['image/*', 'application/pdf']` into a predicate on a media type's essence. A
 * wildcard (`image/*`, `*\/*`) never admits a script-capable type (`image/svg+xml`, `text/html`):
 * only an exact listing does (SPEC §5.13).
 */
export function contentTypeMatcher(patterns: readonly string[] | undefined): (contentType: string) => boolean {
  if (!patterns) return () => true
  const exact = new Set<string>()
  const families = new Set<string>()
  let any = false
  for (const pattern of patterns) {
    const p = pattern.trim().toLowerCase()
    if (p === '*/*' || p === '*') any = true
    else if (p.endsWith('/*')) families.add(p.slice(0, -2))
    else exact.add(p)
  }
  return (contentType) => {
    const essence = essenceOf(contentType)
    if (exact.has(essence)) return true
    return (any || families.has(essence.split('/', 1)[0]!)) && !isScriptCapable(essence)
  }
}
