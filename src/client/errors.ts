import type { ErrorCode } from '../wire'

const BRAND = Symbol.for('s3-presign-middleware.UploadError')

/** The client's own codes, for failures that did not come with a server's error body. */
export type ClientErrorCode =
  /**
   * No HTTP answer from your server (status 0): it is down or unreachable, or the browser blocked the
   * call (the page's CSP `connect-src`, or CORS for an endpoint on another origin). The message says which
   * when the browser reported a CSP violation.
   */
  | 'network_error'
  /** The middleware answered an error status without an error body (a proxy's page, say). */
  | 'http_error'
  /** Storage answered a PUT with an error status (`status` is S3's), after the retries. */
  | 'storage_refused'
  /**
   * No HTTP answer from storage to a PUT (status 0): the bucket's CORS does not allow the page's
   * origin, the page's CSP `connect-src` lacks the bucket's origin, or the store is unreachable.
   * The message names the likely cause and its fix (`npx s3-presign-middleware doctor ... --fix` for CORS).
   */
  | 'storage_unreachable'
  /** Storage stored a part, but the browser may not read its ETag: the bucket's CORS does not expose it. */
  | 'etag_unreadable'

/**
 * An upload failed. `message` is the server's (safe to show to users) or the client's own.
 * An abort is not an `UploadError`: it rejects with an error named `AbortError`.
 */
export class UploadError extends Error {
  /**
   * The server's error code (the README's error table), or the client's own.
   * @example 'file_too_large'
   */
  readonly code: ErrorCode | ClientErrorCode
  /**
   * The HTTP status, 0 without one (`network_error`, `storage_unreachable`, `etag_unreadable`).
   * @example 413
   */
  readonly status: number
  readonly [BRAND] = true

  constructor(code: ErrorCode | ClientErrorCode, message: string, status = 0) {
    super(message)
    this.name = 'UploadError'
    this.code = code
    this.status = status
  }
}

/** Whether `error` is an `UploadError`, also one from another copy of this package (ESM and CJS): a brand, not `instanceof`. */
export const isUploadError = (error: unknown): error is UploadError => (error as { [BRAND]?: unknown } | null)?.[BRAND] === true

/** The rejection of an aborted upload: a `DOMException` named `AbortError` where there is one. */
export function abortError(): Error {
  return typeof DOMException === 'function'
    ? new DOMException('The upload was aborted.', 'AbortError')
    : Object.assign(new Error('The upload was aborted.'), { name: 'AbortError' })
}
