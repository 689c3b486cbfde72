import { badRequest } from './errors'
import { isContentType } from './keys'
import { FILENAME_METADATA, OBJECT_TAG_METADATA } from './token'

/** Untrusted JSON (and query strings) into typed values, or a 400 naming the field. */

export function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object.')
  }
  return body as Record<string, unknown>
}

// C0 and C1 controls (CR, LF, VT, FF, NUL, NEL...), and the Unicode line and paragraph
// separators: characters that break a header or a log line wherever the value travels.
const HEADER_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** A non-empty string without header-breaking characters (SPEC §5.14). */
export function asString(value: unknown, field: string, maxLength = 1024): string {
  if (typeof value !== 'string' || value.length === 0) throw badRequest(`\`${field}\` must be a non-empty string.`)
  if (value.length > maxLength) throw badRequest(`\`${field}\` must be at most ${maxLength} characters.`)
  if (HEADER_BREAKING.test(value)) throw badRequest(`\`${field}\` must not contain control characters or line breaks.`)
  // A lone surrogate cannot be encoded (UTF-8, percent-encoding): a name or key must be valid Unicode.
  if (!value.isWellFormed()) throw badRequest(`\`${field}\` must be valid Unicode text.`)
  return value
}

export function asSize(value: unknown, field = 'size'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`\`${field}\` must be a whole number of bytes (0 or more).`)
  }
  return value
}

export function asContentType(value: unknown, field = 'contentType'): string {
  if (value === undefined || value === null || value === '') return 'application/octet-stream'
  if (!isContentType(value)) throw badRequest(`\`${field}\` must be a media type such as \`image/png\`.`)
  return value
}

const SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/

export function asChecksum(value: unknown, field = 'checksum'): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || !SHA256_BASE64.test(value)) {
    throw badRequest(`\`${field}\` must be the base64 SHA-256 of the content (44 characters).`)
  }
  return value
}

/** S3 stores at most 2 KB of user metadata (names and values); our tag takes the last 64 bytes. */
const MAX_METADATA_BYTES = 2048 - 64
const METADATA_NAME = /^[a-z0-9][a-z0-9_-]{0,127}$/
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
/** Fields Uppy sends with every file's meta: not the user's metadata. */
const UPPY_OWN_FIELDS = new Set(['name', 'type', 'relativepath', 'filename', 'size'])

/**
 * User metadata for `x-amz-meta-*` headers: one rule for every route. `strict` (native routes)
 * refuses a bad name or value; `uppy` skips Uppy's own fields and names S3 cannot store, and
 * percent-encodes non-ASCII values, since Uppy sends every meta field of the file.
 */
export function asMetadata(value: unknown, mode: 'strict' | 'uppy' = 'strict'): Record<string, string> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('`metadata` must be an object of strings.')
  const metadata: Record<string, string> = {}
  let bytes = 0
  for (const [rawName, rawValue] of Object.entries(value)) {
    const name = rawName.toLowerCase()
    if (mode === 'uppy') {
      if (
        typeof rawValue !== 'string' ||
        UPPY_OWN_FIELDS.has(name) ||
        name === OBJECT_TAG_METADATA ||
        name === FILENAME_METADATA ||
        !METADATA_NAME.test(name)
      )
        continue
    } else if (!METADATA_NAME.test(name) || name === OBJECT_TAG_METADATA || name === FILENAME_METADATA) {
      throw badRequest(`Metadata name \`${rawName.slice(0, 64)}\` is not allowed: use letters, digits, \`-\` and \`_\`.`)
    }
    let text = rawValue as string
    if (typeof text !== 'string' || !PRINTABLE_ASCII.test(text)) {
      // Uppy's non-ASCII text (accents, emoji) is kept percent-encoded; header-breaking
      // characters are refused on every route (SPEC §5.14).
      if (mode === 'strict' || typeof text !== 'string' || HEADER_BREAKING.test(text)) {
        throw badRequest(
          `Metadata \`${name}\` must be a string of printable ASCII characters (encode others, e.g. with encodeURIComponent).`,
        )
      }
      text = encodeURIComponent(text)
    }
    bytes += name.length + text.length
    metadata[name] = text
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw badRequest(`Metadata is too large: at most ${MAX_METADATA_BYTES} bytes of names and values.`)
  }
  return metadata
}

/** `metadata[k]=v` query parameters (qs-style brackets), parsed the same on every framework. */
export function queryMetadata(query: URLSearchParams): Record<string, string> {
  const raw: Record<string, string> = {}
  for (const [name, value] of query) {
    const match = /^metadata\[([^\]]*)\]$/.exec(name)
    if (match) raw[match[1]!] = value
  }
  return raw
}
