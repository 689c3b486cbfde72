import { PresignError } from './errors'
import { isContentType } from './keys'

/** Private helpers that turn untrusted JSON into typed values or a 400 naming the field. */

export function bad(message: string): PresignError {
  return new PresignError('invalid_request', message)
}

export function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('The request body must be a JSON object.')
  }
  return body as Record<string, unknown>
}

export function asString(value: unknown, field: string, maxLength = 1024): string {
  if (typeof value !== 'string' || value.length === 0) throw bad(`\`${field}\` must be a non-empty string.`)
  if (value.length > maxLength) throw bad(`\`${field}\` must be at most ${maxLength} characters.`)
  return value
}

export function asSize(value: unknown, field = 'size'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw bad(`\`${field}\` must be a whole number of bytes (0 or more).`)
  }
  return value
}

export function asContentType(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'application/octet-stream'
  if (!isContentType(value)) throw bad('`contentType` must be a media type such as `image/png`.')
  return value
}

const SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/

export function asChecksum(value: unknown, field = 'checksum'): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || !SHA256_BASE64.test(value)) {
    throw bad(`\`${field}\` must be the base64 SHA-256 of the content (44 characters).`)
  }
  return value
}

/** S3 stores at most 2 KB of user metadata (names and values). */
const MAX_METADATA_BYTES = 2048
const METADATA_NAME = /^[a-z0-9][a-z0-9_-]{0,127}$/
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
export const NONCE_METADATA = 'presign-nonce'

export function asMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw bad('`metadata` must be an object of strings.')
  const metadata: Record<string, string> = {}
  let bytes = 0
  for (const [rawName, rawValue] of Object.entries(value)) {
    const name = rawName.toLowerCase()
    if (!METADATA_NAME.test(name) || name === NONCE_METADATA) {
      throw bad(`Metadata name \`${rawName.slice(0, 64)}\` is not allowed: use letters, digits, \`-\` and \`_\`.`)
    }
    if (typeof rawValue !== 'string' || !PRINTABLE_ASCII.test(rawValue)) {
      throw bad(`Metadata \`${name}\` must be a string of printable ASCII characters (encode others, e.g. with encodeURIComponent).`)
    }
    bytes += name.length + rawValue.length
    metadata[name] = rawValue
  }
  if (bytes > MAX_METADATA_BYTES - 64) {
    throw bad(`Metadata is too large: at most ${MAX_METADATA_BYTES - 64} bytes of names and values.`)
  }
  return metadata
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} bytes` : `${Number(value.toFixed(1))} ${units[unit]}`
}
