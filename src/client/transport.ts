import type { ErrorBody } from '../wire'
import { UploadError, abortError } from './errors'
import { retriesWithoutAnswer } from './retry'

/** How one upload's requests go out. */
/** fetch's `credentials`, spelled out: the DOM's `RequestCredentials` type is not in Node's lib. */
export type Credentials = 'omit' | 'same-origin' | 'include'

export interface Transport {
  /** The fetch for the calls to the middleware (never for storage): the caller's, or the global one. */
  fetch: typeof fetch
  /** Headers for the middleware only: never sent to storage. */
  headers?: Record<string, string>
  /** Cookies for the middleware only: storage never gets any. */
  credentials: Credentials
  signal?: AbortSignal
  /**
   * Origins that gave an HTTP answer (any status) during this upload. Neither CORS nor CSP blocked
   * them, so a later request to them that gets no answer is a dropped connection, worth every retry.
   */
  reached: Set<string>
}

/** What storage answered a PUT: `status` 0 when no answer came; `error` unless the status is 2xx. */
export interface Sent {
  status: number
  etag: string | null
  text: string
  error?: UploadError
}

export const ok = (status: number) => status >= 200 && status < 300

/**
 * Origins the page's Content-Security-Policy refused to connect to. A page's policy only ever
 * tightens, so one report holds for the page's life. The browser reports a violation as an event
 * of its own, just before XMLHttpRequest's `error` and just after fetch rejects.
 */
const blocked = new Set<string>()
let watching = false

const originOf = (url: string) => {
  try {
    return new URL(url, globalThis.location?.href).origin
  } catch {
    return url
  }
}

/** Starts listening for the page's CSP violations (once per page; nothing outside a browser). */
export function watchCsp(): void {
  if (watching || typeof addEventListener !== 'function') return
  watching = true
  addEventListener('securitypolicyviolation', (e) => {
    if (e.disposition === 'enforce' && e.effectiveDirective === 'connect-src') blocked.add(originOf(e.blockedURI))
  })
}

/**
 * The error for a request to `url` that got no HTTP answer, and how often to retry it: never when
 * the page's CSP blocked it (deterministic), at will when its origin answered earlier in this upload
 * (a dropped connection), otherwise once (a CORS refusal or a store that is down looks the same as a
 * brief drop from here, and only the drop deserves a second try).
 */
async function noAnswer(url: string, { reached }: Transport, what: string | undefined, cause?: unknown): Promise<UploadError> {
  await new Promise((resolve) => setTimeout(resolve, 0)) // let the browser report a CSP violation first
  const origin = originOf(url)
  // Node's fetch says why (ECONNREFUSED, ...); browsers say nothing, by design.
  const code = (cause as { cause?: { code?: string } } | undefined)?.cause?.code
  const why = code ? ` (${code})` : ''
  const message = blocked.has(origin)
    ? `The page's Content-Security-Policy blocked the request to ${origin}: add ${origin} to its connect-src.`
    : reached.has(origin)
      ? `The connection to ${origin} was lost${why}.`
      : what
        ? `Storage at ${origin} gave no answer to ${what}${why}. Check the bucket's CORS for this page's origin (npx s3-presign-middleware doctor --bucket <bucket> --origin ${globalThis.location?.origin ?? '<app origin>'} --fix), the page's Content-Security-Policy (connect-src must include ${origin}), and that the store is reachable.`
        : `The server at ${url} gave no answer${why}: it is down or unreachable, or the browser blocked the request (the page's Content-Security-Policy connect-src, or CORS on an endpoint of another origin).`
  const error = new UploadError(what ? 'storage_unreachable' : 'network_error', message)
  retriesWithoutAnswer.set(error, blocked.has(origin) ? 0 : reached.has(origin) ? Number.POSITIVE_INFINITY : 1)
  return error
}

/**
 * One JSON POST to the middleware, resolving to its JSON answer. Rejects with an `UploadError`
 * (the server's code, `http_error` or `network_error`), or with `AbortError` once `signal` aborts.
 */
export async function postJson<T>(url: string, body: unknown, t: Transport): Promise<T> {
  const { headers, credentials, signal } = t
  let res: Response
  try {
    res = await t.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      credentials,
      ...(signal ? { signal } : {}),
    })
  } catch (error) {
    if (signal?.aborted) throw abortError()
    throw await noAnswer(url, t, undefined, error)
  }
  t.reached.add(originOf(url))
  const data = (await res.json().catch(() => ({}))) as T & Partial<ErrorBody>
  if (res.ok) return data
  throw new UploadError(data.code ?? 'http_error', data.message ?? `The server answered ${res.status}.`, res.status)
}

/**
 * One PUT of `what` to storage, never with cookies: XMLHttpRequest where there is one (browsers:
 * it reports upload progress to `onBytes`; `withCredentials` stays false), the global fetch
 * elsewhere (`onBytes` once, when stored; `credentials: 'omit'`). The caller's `fetch` is never used:
 * it may add what only the app should see, and it would cost browsers their byte-level progress.
 * Resolves to storage's answer; rejects only on abort.
 */
export async function putBlob(
  url: string,
  headers: Record<string, string>,
  body: Blob,
  onBytes: (loaded: number) => void,
  what: string,
  t: Transport,
): Promise<Sent> {
  const { signal } = t
  let cause: unknown
  // Browsers forbid setting Content-Length (the body sets it anyway, at the signed length).
  const sendable = Object.fromEntries(Object.entries(headers).filter(([h]) => h.toLowerCase() !== 'content-length'))
  const sent: Sent =
    typeof XMLHttpRequest !== 'undefined'
      ? await new Promise((resolve, reject) => {
          const xhr = new XMLHttpRequest()
          xhr.open('PUT', url)
          for (const [h, v] of Object.entries(sendable)) xhr.setRequestHeader(h, v)
          xhr.upload.onprogress = (e) => onBytes(e.loaded)
          xhr.onload = () => resolve({ status: xhr.status, etag: xhr.getResponseHeader('ETag'), text: xhr.responseText })
          xhr.onerror = () => resolve({ status: 0, etag: null, text: '' })
          xhr.onabort = () => reject(abortError())
          signal?.addEventListener('abort', () => xhr.abort(), { once: true })
          xhr.send(body)
        })
      : await fetch(url, { method: 'PUT', headers: sendable, body, credentials: 'omit', ...(signal ? { signal } : {}) }).then(
          async (res) => {
            const text = await res.text()
            if (res.ok) onBytes(body.size)
            return { status: res.status, etag: res.headers.get('etag'), text }
          },
          (error: unknown) => {
            if (signal?.aborted) throw abortError()
            cause = error
            return { status: 0, etag: null, text: '' }
          },
        )
  if (!sent.status) return { ...sent, error: await noAnswer(url, t, what, cause) }
  t.reached.add(originOf(url))
  if (ok(sent.status)) return sent
  // Storage's refusal, with S3's own error code when it sent one.
  const code = /<Code>([^<]+)<\/Code>/.exec(sent.text)?.[1]
  return {
    ...sent,
    error: new UploadError('storage_refused', `Storage refused ${what} (HTTP ${sent.status}${code ? ` ${code}` : ''}).`, sent.status),
  }
}
