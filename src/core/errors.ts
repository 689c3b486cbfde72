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

/** A 400 naming what is wrong with the request. */
export function badRequest(message: string): PresignError {
  return new PresignError('invalid_request', message)
}

/**
 * `authorize` refused by throwing. A `PresignError`, or an error with a 4xx `status`
 * (Koa's `ctx.throw(401)`, http-errors), keeps its status and message; anything else is a
 * plain 403 so that internals never reach the client.
 */
export function refusalFrom(error: unknown): PresignError {
  if (isPresignError(error)) return error
  const e = (error ?? {}) as { status?: unknown; statusCode?: unknown; message?: unknown; expose?: unknown }
  const status = e.status ?? e.statusCode
  const safe = typeof e.message === 'string' && e.message.length > 0 && e.expose !== false ? e.message : undefined
  if (status === 401) return new PresignError('unauthorized', safe ?? 'Log in to do this.', { cause: error })
  if (typeof status === 'number' && status >= 400 && status < 500 && safe) {
    return new PresignError('forbidden', safe, { cause: error })
  }
  return new PresignError('forbidden', 'You are not allowed to do this.', { cause: error })
}
