import type { CompleteResponse, CreateResponse, ErrorBody, ListPartsResponse, MultipartCreateResponse, SignPartsResponse, SingleCreateResponse } from '../wire'

/**
 * The browser client (also Node 20+): asks `create`, then PUTs the file straight to S3 in one
 * request or in parts, then `complete`. Zero dependencies, no signing, no `node:` imports.
 */

/** Where a multipart upload's token is kept so that a reload can resume it. `localStorage` fits. */
export interface ResumeStorage {
  getItem(key: string): string | null | Promise<string | null>
  setItem(key: string, value: string): void | Promise<void>
  removeItem(key: string): void | Promise<void>
}

export interface UploadProgress {
  /** bytes S3 has received (parts in flight count as they go, in browsers) */
  loaded: number
  total: number
}

export interface UploadOptions {
  /**
   * Where the middleware is mounted.
   * @example '/uploads'
   */
  endpoint: string
  /** Headers for the calls to your server (not to S3), e.g. `Authorization`. */
  headers?: Record<string, string>
  /** Called as bytes reach S3; `loaded` never goes back. */
  onProgress?: (progress: UploadProgress) => void
  /** Aborts the upload: in-flight requests stop, a multipart upload is aborted on the server. */
  signal?: AbortSignal
  /**
   * Parts uploaded at once.
   * @default 4
   */
  concurrency?: number
  /** The file name, required for a `Blob` that is not a `File`. */
  name?: string
  /** User metadata stored with the object (printable ASCII values). */
  metadata?: Record<string, string>
  /**
   * Attempts after the first for each request that fails with a network error, 5xx or 429.
   * @default 3
   */
  retries?: number
  /** Persist multipart progress here to resume after a reload (`localStorage` works as is). */
  resume?: ResumeStorage
  /** Send each part's SHA-256 (WebCrypto) so that S3 can check it. */
  checksum?: boolean
  /** The fetch to use (defaults to the global one). */
  fetch?: typeof fetch
}

const BRAND = Symbol.for('s3-presign-middleware.UploadError')

/** An upload failed: `code` is the server's error code (or the client's own), `status` the HTTP status. */
export class UploadError extends Error {
  readonly code: string
  readonly status: number
  readonly [BRAND] = true

  constructor(code: string, message: string, status = 0) {
    super(message)
    this.name = 'UploadError'
    this.code = code
    this.status = status
  }
}

interface Sent {
  status: number
  etag: string | null
  text: string
}

interface Saved {
  token: string
  key: string
  partSize: number
  partCount: number
}

const wait = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(abortError())
    }, { once: true })
  })

function abortError(): Error {
  return typeof DOMException === 'function' ? new DOMException('The upload was aborted.', 'AbortError') : Object.assign(new Error('The upload was aborted.'), { name: 'AbortError' })
}

const retryable = (status: number) => status === 0 || status === 429 || status >= 500

/** Full-jitter exponential backoff: 0..(250 ms × 2^attempt), at most 8 s. */
const backoff = (attempt: number) => Math.random() * Math.min(8000, 250 * 2 ** attempt)

/**
 * Uploads `file` through the middleware at `endpoint` and resolves to what `/complete` answered
 * (`{ key, size, contentType, etag, result }`).
 *
 * @example
 * const { key, result } = await uploadFile(input.files[0], { endpoint: '/uploads', onProgress: ({ loaded, total }) => bar.value = loaded / total })
 */
export async function uploadFile<Result = unknown>(file: Blob, options: UploadOptions): Promise<CompleteResponse<Result>> {
  const name = options.name ?? (file as Partial<File>).name
  if (!name) throw new UploadError('invalid_request', 'uploadFile needs a file name: pass a File, or `name` in the options for a Blob.')
  const endpoint = options.endpoint.replace(/\/+$/, '')
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  const retries = options.retries ?? 3
  const { signal } = options
  if (signal?.aborted) throw abortError()

  let reported = 0
  const progress = (loaded: number) => {
    if (loaded > reported) {
      reported = Math.min(loaded, file.size)
      options.onProgress?.({ loaded: reported, total: file.size })
    }
  }

  /** A call to the middleware, retried on network errors, 5xx and 429. */
  async function api<T>(route: string, body: unknown, withSignal = true): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let res: Response
      try {
        res = await doFetch(`${endpoint}${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
          body: JSON.stringify(body),
          credentials: 'same-origin',
          ...(withSignal && signal ? { signal } : {}),
        })
      } catch (error) {
        if (signal?.aborted && withSignal) throw abortError()
        if (attempt >= retries) throw new UploadError('network_error', `The server could not be reached (${(error as Error).message}).`)
        await wait(backoff(attempt), withSignal ? signal : undefined)
        continue
      }
      const data = (await res.json().catch(() => ({}))) as T & Partial<ErrorBody>
      if (res.ok) return data
      if (retryable(res.status) && attempt < retries) {
        await wait(backoff(attempt), withSignal ? signal : undefined)
        continue
      }
      throw new UploadError(data.code ?? 'http_error', data.message ?? `The server answered ${res.status}.`, res.status)
    }
  }

  /** One PUT to S3: XHR in browsers (upload progress), fetch elsewhere. */
  function put(url: string, headers: Record<string, string>, body: Blob, onBytes: (n: number) => void): Promise<Sent> {
    const sendable = Object.fromEntries(Object.entries(headers).filter(([h]) => h.toLowerCase() !== 'content-length'))
    if (typeof XMLHttpRequest !== 'undefined' && !options.fetch) {
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

  function refused(sent: Sent, what: string): UploadError {
    const code = /<Code>([^<]+)<\/Code>/.exec(sent.text)?.[1]
    return new UploadError('storage_refused', `Storage refused ${what} (HTTP ${sent.status}${code ? ` ${code}` : ''}).`, sent.status)
  }

  const contentType = file.type || 'application/octet-stream'
  const fingerprint = `s3-presign-middleware:${endpoint}:${name}:${file.size}:${contentType}:${(file as Partial<File>).lastModified ?? ''}`
  let saved: Saved | undefined
  const stored = options.resume ? await options.resume.getItem(fingerprint) : null
  if (stored) {
    try {
      saved = JSON.parse(stored) as Saved
    } catch {
      saved = undefined
    }
  }

  let done: Map<number, string> | undefined
  if (saved) {
    try {
      const { parts } = await api<ListPartsResponse>('/list-parts', { token: saved.token })
      done = new Map()
      for (const p of parts) {
        const expected = p.partNumber < saved.partCount ? saved.partSize : file.size - saved.partSize * (saved.partCount - 1)
        if (p.size === expected) done.set(p.partNumber, p.etag)
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error
      await options.resume?.removeItem(fingerprint) // expired or gone: start over
      saved = undefined
    }
  }

  if (!saved) {
    const created = await api<CreateResponse>('/create', { filename: name, contentType, size: file.size, ...(options.metadata ? { metadata: options.metadata } : {}) })
    if (created.strategy === 'single') return single(created)
    saved = { token: created.token, key: created.key, partSize: created.partSize, partCount: created.partCount }
    await options.resume?.setItem(fingerprint, JSON.stringify(saved))
    done = new Map()
  }
  return multipart(saved, done!)

  async function single(created: SingleCreateResponse): Promise<CompleteResponse<Result>> {
    for (let attempt = 0; ; attempt++) {
      const sent = await put(created.url, created.headers, file, progress)
      if (sent.status >= 200 && sent.status < 300) break
      if (!retryable(sent.status) || attempt >= retries) throw refused(sent, 'the upload')
      await wait(backoff(attempt), signal)
    }
    progress(file.size)
    return api<CompleteResponse<Result>>('/complete', { token: created.token })
  }

  async function multipart(upload: Saved, etags: Map<number, string>): Promise<CompleteResponse<Result>> {
    const { token, partSize, partCount } = upload
    const length = (n: number) => (n < partCount ? partSize : file.size - partSize * (partCount - 1))
    const inFlight = new Map<number, number>()
    let finished = [...etags.keys()].reduce((sum, n) => sum + length(n), 0)
    const report = () => progress(finished + [...inFlight.values()].reduce((a, b) => a + b, 0))
    report()

    // Parts not started yet: workers take from the front, sign batches are drawn from it too.
    const queue = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !etags.has(n))
    const signed = new Map<number, { url: string; headers: Record<string, string> }>()
    let signing: Promise<void> | undefined

    /** Part URLs in batches, just ahead of the workers: never all up front. */
    async function urlFor(n: number, again = false) {
      if (again) signed.delete(n)
      while (!signed.has(n)) {
        if (!signing) {
          const batch = [n, ...queue.filter((p) => !signed.has(p))].slice(0, Math.max(2, concurrency * 2))
          signing = (async () => {
            const checksums = options.checksum ? Object.fromEntries(await Promise.all(batch.map(async (p) => [String(p), await sha256(p)]))) : undefined
            const { parts } = await api<SignPartsResponse>('/sign-parts', { token, partNumbers: batch, ...(checksums ? { checksums } : {}) })
            for (const p of parts) signed.set(p.partNumber, p)
          })().finally(() => {
            signing = undefined
          })
        }
        await signing
      }
      const url = signed.get(n)!
      signed.delete(n)
      return url
    }

    const slice = (n: number) => file.slice((n - 1) * partSize, (n - 1) * partSize + length(n))
    async function sha256(n: number): Promise<string> {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await slice(n).arrayBuffer()))
      let binary = ''
      for (const b of digest) binary += String.fromCharCode(b)
      return btoa(binary)
    }

    async function uploadPart(n: number) {
      let part = await urlFor(n)
      for (let attempt = 0; ; attempt++) {
        const sent = await put(part.url, part.headers, slice(n), (loaded) => {
          inFlight.set(n, loaded)
          report()
        })
        inFlight.delete(n)
        if (sent.status >= 200 && sent.status < 300) {
          if (!sent.etag) {
            throw new UploadError('etag_unreadable', "Storage did not let the browser read the part's ETag header: expose ETag in the bucket's CORS configuration.")
          }
          etags.set(n, sent.etag)
          finished += length(n)
          report()
          return
        }
        if (attempt >= retries) throw refused(sent, `part ${n}`)
        if (sent.status === 403 && /expired/i.test(sent.text)) {
          part = await urlFor(n, true) // the URL expired: sign this part again
          continue
        }
        if (!retryable(sent.status)) throw refused(sent, `part ${n}`)
        await wait(backoff(attempt), signal)
      }
    }

    const concurrency = Math.max(1, options.concurrency ?? 4)
    try {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
          for (let n = queue.shift(); n !== undefined; n = queue.shift()) await uploadPart(n)
        }),
      )
      const parts = [...etags].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }))
      const result = await api<CompleteResponse<Result>>('/complete', { token, parts })
      await options.resume?.removeItem(fingerprint)
      return result
    } catch (error) {
      if (signal?.aborted) {
        await api('/abort', { token }, false).catch(() => {})
        await options.resume?.removeItem(fingerprint)
        throw abortError()
      }
      throw error
    }
  }
}


