import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '../wire'

const BRAND = Symbol.for('s3-presign-middleware.PresignError')

/**
 * The one error class of the package. Its `message` is shown to end users (Uppy displays it),
 * so it never carries credentials, stack traces or S3 XML; the original error is kept as `cause`.
 *
 * Throw it from a hook to answer with a chosen code, e.g.
 * `throw new PresignError('unauthorized', 'Log in to upload files')`.
 */
export class PresignError extends Error {
  readonly code: ErrorCode
  /** HTTP status, from the one code-to-status table. */
  readonly status: number
  /** Koa-style: the message may be shown to clients. */
  readonly expose: boolean
  readonly [BRAND] = true

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PresignError'
    this.code = code
    this.status = ERROR_STATUS[code]
    this.expose = true
  }

  toJSON(): ErrorBody {
    return { code: this.code, message: this.message }
  }
}

/**
 * Brand check instead of `instanceof`: safe when the ESM and CJS builds are both loaded.
 */
export function isPresignError(value: unknown): value is PresignError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
}

/** The prefix of every start-up (configuration) error. */
export function configError(message: string): Error {
  return new TypeError(`[s3-presign-middleware] ${message}`)
}
