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

/** The first code the table gives a status (the most general one for that status). */
const CODE_OF_STATUS = new Map<number, ErrorCode>()
for (const [code, status] of Object.entries(ERROR_STATUS) as Array<[ErrorCode, number]>) {
  if (!CODE_OF_STATUS.has(status)) CODE_OF_STATUS.set(status, code)
}

/**
 * What a hook threw, as the answer it asks for. A `PresignError` stays as it is. An error that
 * declares a 4xx `status` (or `statusCode`) and does not set `expose: false` (Koa's
 * `ctx.throw(429)`, http-errors, a hand-made `{ status: 404, expose: true }`) keeps its status and
 * message. Anything else (a crash, a database down) is not a refusal: `undefined`, and the
 * caller rethrows it for the host framework's error handler.
 */
export function refusalFrom(error: unknown): PresignError | undefined {
  if (isPresignError(error)) return error
  const e = (error ?? {}) as { status?: unknown; statusCode?: unknown; message?: unknown; expose?: unknown }
  const status = e.status ?? e.statusCode
  if (typeof status !== 'number' || status < 400 || status > 499 || e.expose === false) return undefined
  const code = CODE_OF_STATUS.get(status)
  if (!code) return undefined
  const message =
    typeof e.message === 'string' && e.message.length > 0 ? e.message : (DEFAULT_REFUSAL[status] ?? 'This request was refused.')
  return new PresignError(code, message, { cause: error })
}

const DEFAULT_REFUSAL: Record<number, string> = {
  401: 'Log in to do this.',
  403: 'You are not allowed to do this.',
  429: 'Too many requests: try again later.',
}
