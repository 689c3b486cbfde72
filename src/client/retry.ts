import { abortError, isUploadError } from './errors'

export interface RetryOptions {
  /** Attempts after the first. */
  retries: number
  /** Aborts the wait between attempts (the attempts listen to it themselves). */
  signal?: AbortSignal
  /**
   * Whether a failed attempt's error is worth another attempt: `true` after the backoff, `'now'`
   * at once, `false` to throw it. `attempt` counts the failed attempts before this one. Asked only
   * while attempts remain; the last error is thrown as is.
   */
  retryable: (error: unknown, attempt: number) => boolean | 'now'
  /** Milliseconds to wait after failed attempt `attempt` (0 for the first). */
  backoff?: (attempt: number) => number
}

/** Full-jitter exponential backoff: 0..(250 ms × 2^attempt), at most 8 s. */
export const fullJitter = (attempt: number) => Math.random() * Math.min(8000, 250 * 2 ** attempt)

/**
 * How many times a request that got no HTTP answer is worth sending again, set by the transport for
 * each such error (see `noAnswer`): unknown errors without a status are not retried.
 */
export const retriesWithoutAnswer = new WeakMap<object, number>()

/**
 * The `retryable` of most requests: an `UploadError` whose status may go away (429, 5xx), or one
 * with no answer at all within what the transport allowed for it.
 */
export const transient = (error: unknown, attempt: number) =>
  isUploadError(error) && (error.status ? error.status === 429 || error.status >= 500 : attempt < (retriesWithoutAnswer.get(error) ?? 0))

const wait = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(abortError())
      },
      { once: true },
    )
  })

/** Runs `attempt` until it resolves, or until `retryable` declines its error or the retries run out. The one retry loop of the client. */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  { retries, signal, retryable, backoff = fullJitter }: RetryOptions,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt()
    } catch (error) {
      const again = n < retries && retryable(error, n)
      if (!again) throw error
      if (again !== 'now') await wait(backoff(n), signal)
    }
  }
}
