/**
 * A value now, or later. The hot paths (`create`, `sign-parts`) take a hook's answer or a signed URL
 * at once when it is already there: each `await` costs a turn of the event loop, which costs as
 * much as a hash.
 */
export type MaybePromise<T> = T | Promise<T>

/** True for a promise or any thenable (a hook may return either). */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}
