import type { CompleteResponse, CreateResponse, SingleCreateResponse } from '../wire'
import { UploadError, abortError } from './errors'
import { type Saved, resumeUpload, uploadParts } from './multipart'
import { transient, withRetries } from './retry'
import { type Credentials, type Sent, type Transport, postJson, putBlob, watchCsp } from './transport'

/**
 * Where a multipart upload's token is kept so that a later call (after a reload, a crash, a lost
 * network) continues it. The Web Storage interface: `localStorage` and `sessionStorage` work as
 * they are; anything else (IndexedDB, a `Map`) needs these three methods, sync or async.
 *
 * @example
 * resume: localStorage
 * @example
 * const map = new Map<string, string>()
 * resume: { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) }
 */
export interface ResumeStorage {
  /** The value stored under `key`, or `null`. */
  getItem(key: string): string | null | Promise<string | null>
  /** Stores `value` (a JSON string) under `key`. */
  setItem(key: string, value: string): void | Promise<void>
  /** Forgets `key` (the upload completed, was aborted, or can no longer be resumed). */
  removeItem(key: string): void | Promise<void>
}

/** What `onProgress` receives. */
export interface UploadProgress {
  /**
   * Bytes S3 has received, never going back. In browsers (XMLHttpRequest) parts in flight count
   * as they go; with fetch (Node, or the `fetch` option) a part counts once it is stored.
   * @example 6291456
   */
  loaded: number
  /**
   * The file's size in bytes; the last call has `loaded === total`.
   * @example 12582912
   */
  total: number
}

/** The options of `uploadFile`. Only `endpoint` is required. */
export interface UploadOptions {
  /**
   * Where the middleware is mounted: an absolute URL or a path on the page's origin.
   * @example '/uploads'
   * @example 'https://api.example.com/uploads'
   */
  endpoint: string
  /**
   * Headers for the calls to your server (never sent to S3).
   * @default {}
   * @example { authorization: `Bearer ${token}` }
   */
  headers?: Record<string, string>
  /**
   * Whether the calls to your server carry cookies, as fetch's `credentials`: `'include'` for an
   * `endpoint` on another origin that authenticates by cookie (its CORS must then allow this origin
   * with `Access-Control-Allow-Credentials: true`). Requests to S3 never carry cookies, whatever this says.
   * @default 'same-origin'
   * @example 'include'
   */
  credentials?: Credentials
  /**
   * Called as bytes reach S3, with `loaded` never going back and the last call at `total`.
   * @example ({ loaded, total }) => (bar.value = loaded / total)
   */
  onProgress?: (progress: UploadProgress) => void
  /**
   * Stops the upload: requests in flight are cancelled, a multipart upload is aborted on the
   * server (best effort), and `uploadFile` rejects with an error named `AbortError`.
   * @example controller.signal
   */
  signal?: AbortSignal
  /**
   * Parts uploaded at once (multipart only). Part URLs are signed in batches of twice this (at
   * least 2), just ahead of the uploads.
   * @default 4
   */
  concurrency?: number
  /**
   * The file name sent to `/create`. Required for a `Blob` that is not a `File`; overrides a
   * `File`'s own name.
   * @default file.name
   * @example 'report.pdf'
   */
  name?: string
  /**
   * User metadata stored with the object (`x-amz-meta-*`): names of letters, digits, `-` and `_`,
   * values of printable ASCII, at most about 2 KB in all. The server refuses others with `invalid_request`.
   * @example { album: 'holidays' }
   */
  metadata?: Record<string, string>
  /**
   * Attempts after the first, for each request that fails with a 5xx or a 429, with exponential
   * backoff and full jitter (up to 250 ms × 2^attempt, at most 8 s). A part whose URL S3 calls
   * expired is signed again at once, which also counts as an attempt.
   *
   * A request that gets no HTTP answer at all (status 0) is retried once (a CORS refusal, a CSP
   * block or a store that is down look the same as a brief drop, and only the drop deserves more
   * than one retry), not at all when the page's CSP reported blocking it, and up to `retries` times
   * once its host has answered during this upload (a connection dropped mid-upload).
   * @default 3
   */
  retries?: number
  /**
   * Keep each multipart upload's token here, so that uploading the same file again (same
   * endpoint, name, size, type and `lastModified`) uploads only the parts S3 does not have.
   * The entry is removed when the upload completes, is aborted, or can no longer be resumed.
   * @example localStorage
   */
  resume?: ResumeStorage
  /**
   * Send each part's SHA-256 (WebCrypto) with its signing request, so that S3 can check the
   * part's bytes. Each part is read into memory once to hash it.
   * @default false
   */
  checksum?: boolean
  /**
   * The `fetch` for the calls to your server (a wrapper that adds auth, logs, or routes them).
   * Never used for S3: uploads go by XMLHttpRequest in browsers (byte-level progress) and by the
   * global `fetch` elsewhere, without cookies, `headers` or anything this wrapper would add.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch
}

/** One `uploadFile` call's plumbing, shared by its steps. */
export interface Session {
  file: Blob
  options: UploadOptions
  /** `resume`'s key for this file. */
  fingerprint: string
  /** `retries` and the caller's `signal`, for `withRetries`. */
  retry: { retries: number; signal?: AbortSignal }
  /** A call to the middleware, retried as `retries` says. `withSignal: false` for the abort call, which goes out after the abort. */
  api<T>(route: string, body: unknown, withSignal?: boolean): Promise<T>
  /** One PUT of `what` to storage (see `putBlob`), not retried. */
  put(url: string, headers: Record<string, string>, body: Blob, onBytes: (loaded: number) => void, what: string): Promise<Sent>
  /** Reports `loaded` bytes to `onProgress` when it is more than reported before. */
  progress(loaded: number): void
}

/**
 * Uploads `file` through the middleware at `endpoint`, straight to S3, and resolves to what
 * `/complete` answered once the server verified the object (`{ key, size, contentType, etag, result }`,
 * where `result` is what `onComplete` returned). A single PUT or a multipart upload, as the server decides.
 *
 * @example
 * const { key, result } = await uploadFile(input.files[0], { endpoint: '/uploads', onProgress: ({ loaded, total }) => (bar.value = loaded / total) })
 * @example
 * // Node 20: a Blob needs a name
 * await uploadFile(new Blob([bytes], { type: 'image/png' }), { endpoint: 'http://localhost:3000/uploads', name: 'a.png' })
 */
export async function uploadFile<Result = unknown>(file: Blob, options: UploadOptions): Promise<CompleteResponse<Result>> {
  const name = options.name ?? (file as Partial<File>).name
  if (!name) throw new UploadError('invalid_request', 'uploadFile needs a file name: pass a File, or `name` in the options for a Blob.')
  const endpoint = options.endpoint.replace(/\/+$/, '')
  const transport: Transport = {
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    headers: options.headers,
    credentials: options.credentials ?? 'same-origin',
    signal: options.signal,
    reached: new Set(),
  }
  const retry = { retries: options.retries ?? 3, signal: options.signal }
  if (options.signal?.aborted) throw abortError()
  watchCsp()

  let reported = 0
  const contentType = file.type || 'application/octet-stream'
  const session: Session = {
    file,
    options,
    fingerprint: `s3-presign-middleware:${endpoint}:${name}:${file.size}:${contentType}:${(file as Partial<File>).lastModified ?? ''}`,
    retry,
    api: (route, body, withSignal = true) => {
      const to = withSignal ? transport : { ...transport, signal: undefined }
      return withRetries(() => postJson(`${endpoint}${route}`, body, to), {
        retries: retry.retries,
        signal: to.signal,
        retryable: transient,
      })
    },
    put: (url, headers, body, onBytes, what) => putBlob(url, headers, body, onBytes, what, transport),
    progress: (loaded) => {
      if (loaded > reported) {
        reported = Math.min(loaded, file.size)
        options.onProgress?.({ loaded: reported, total: file.size })
      }
    },
  }

  const resumed = await resumeUpload(session)
  if (resumed) return uploadParts(session, resumed.saved, resumed.etags)
  const created = await session.api<CreateResponse>('/create', {
    filename: name,
    contentType,
    size: file.size,
    ...(options.metadata ? { metadata: options.metadata } : {}),
  })
  if (created.strategy === 'single') return uploadSingle(session, created)
  const saved: Saved = { token: created.token, key: created.key, partSize: created.partSize, partCount: created.partCount }
  await options.resume?.setItem(session.fingerprint, JSON.stringify(saved))
  return uploadParts(session, saved, new Map())
}

/** One PUT of the whole file, retried as `retries` says, then `/complete`. */
async function uploadSingle<Result>(session: Session, created: SingleCreateResponse): Promise<CompleteResponse<Result>> {
  const { file } = session
  await withRetries(
    async () => {
      const { error } = await session.put(created.url, created.headers, file, session.progress, 'the upload')
      if (error) throw error
    },
    { ...session.retry, retryable: transient },
  )
  session.progress(file.size)
  return session.api<CompleteResponse<Result>>('/complete', { token: created.token })
}
