import type { ErrorBody } from '../wire'
import { UploadError, abortError } from './errors'

/** How one upload's requests go out. */
export interface Transport {
  /** The fetch for every request: the caller's, or the global one. */
  fetch: typeof fetch
  /** The caller gave `fetch`: then PUTs use it too, instead of XMLHttpRequest. */
  custom: boolean
  /** Headers for the middleware only: never sent to storage. */
  headers?: Record<string, string>
  signal?: AbortSignal
}

/** What storage answered a PUT: `status` 0 when no answer came (network error, or CORS). */
export interface Sent {
  status: number
  etag: string | null
  text: string
}

export const ok = (status: number) => status >= 200 && status < 300

/**
 * One JSON POST to the middleware, resolving to its JSON answer. Rejects with an `UploadError`
 * (the server's code, `http_error` or `network_error`), or with `AbortError` once `signal` aborts.
 */
export async function postJson<T>(url: string, body: unknown, { fetch: doFetch, headers, signal }: Transport): Promise<T> {
  let res: Response
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      credentials: 'same-origin',
      ...(signal ? { signal } : {}),
    })
  } catch (error) {
    if (signal?.aborted) throw abortError()
    throw new UploadError('network_error', `The server could not be reached (${(error as Error).message}).`)
  }
  const data = (await res.json().catch(() => ({}))) as T & Partial<ErrorBody>
  if (res.ok) return data
  throw new UploadError(data.code ?? 'http_error', data.message ?? `The server answered ${res.status}.`, res.status)
}

/**
 * One PUT to storage: XMLHttpRequest in browsers (it reports upload progress to `onBytes`), fetch
 * elsewhere (`onBytes` once, when stored). Resolves to storage's answer; rejects only on abort.
 */
export function putBlob(url: string, headers: Record<string, string>, body: Blob, onBytes: (loaded: number) => void, { fetch: doFetch, custom, signal }: Transport): Promise<Sent> {
  // Browsers forbid setting Content-Length (the body sets it anyway, at the signed length).
  const sendable = Object.fromEntries(Object.entries(headers).filter(([h]) => h.toLowerCase() !== 'content-length'))
  if (typeof XMLHttpRequest !== 'undefined' && !custom) {
    return new Promise((resolve, reject) => {
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
  }
  return doFetch(url, { method: 'PUT', headers: sendable, body, ...(signal ? { signal } : {}) }).then(
    async (res) => {
      const text = await res.text()
      if (res.ok) onBytes(body.size)
      return { status: res.status, etag: res.headers.get('etag'), text }
    },
    (error: unknown) => {
      if (signal?.aborted) throw abortError()
      void error
      return { status: 0, etag: null, text: '' }
    },
  )
}

/** Storage's refusal of `what` as an `UploadError`, with S3's own error code when it sent one. */
export function refused(sent: Sent, what: string): UploadError {
  const code = /<Code>([^<]+)<\/Code>/.exec(sent.text)?.[1]
  return new UploadError('storage_refused', `Storage refused ${what} (HTTP ${sent.status}${code ? ` ${code}` : ''}).`, sent.status)
}
