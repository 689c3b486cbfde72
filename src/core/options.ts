import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import { configError } from './errors'
import { MAX_KEY_BYTES } from './keys'

/** What `authorize` returns for a known caller: tokens are bound to `id`. */
export interface Identity {
  id: string
  [key: string]: unknown
}

/** The actions `authorize` is asked about. Signing and listing parts count as `upload`. */
export type Action = 'upload' | 'download' | 'complete' | 'abort'

/** The file a caller wants to upload, as declared in `create` (or Uppy's `/s3/params`). */
export interface FileInfo {
  filename: string
  contentType: string
  size: number
  metadata: Record<string, string>
}

export interface AuthorizeContext<Req = unknown> {
  action: Action
  /**
   * The framework's own request: Express `Request`, Koa `Context`, fetch `Request`
   * (undefined when the core is called directly without one).
   */
  request: Req
  /** The file, for `upload` when a new upload starts. */
  file?: FileInfo
  /** The object key, for every action but the start of an upload. */
  key?: string
}

export interface KeyForContext<Req = unknown, Id extends Identity = Identity> {
  request: Req
  identity: Id | true
  file: FileInfo
}

export interface CompleteContext<Req = unknown, Id extends Identity = Identity> {
  request: Req
  identity: Id | true
  key: string
  size: number
  contentType: string
  etag: string
  metadata: Record<string, string>
  /** `complete`: the client called `/complete`; `event`: an S3 event notification. */
  source: 'complete' | 'event'
}

/** The options of `createPresigner` and of every adapter. */
export interface PresignOptions<Req = unknown, Id extends Identity = Identity, Result = unknown> {
  /**
   * The bucket that receives uploads.
   * @example 'my-app-uploads'
   */
  bucket: string
  /**
   * The bucket's region.
   * @default the SDK's usual sources (AWS_REGION, profile), or the `region` of `s3`
   */
  region?: string
  /**
   * An `S3Client`, or the config to build one (endpoint, `forcePathStyle`, credentials).
   * Credentials default to the SDK's provider chain.
   * @example { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true }
   */
  s3?: S3Client | S3ClientConfig
  /**
   * The key that seals upload tokens (HMAC-SHA256), at least 16 characters; give every
   * instance the same one. A list rotates secrets: the first signs, all of them verify.
   * @example process.env.PRESIGN_SECRET
   */
  secret: string | readonly string[]
  /**
   * Decides who may do what. Return `{ id, ... }` for a known caller (tokens are bound to
   * `id`), `true` for an anonymous one, `false` (or throw) to refuse. Throw a `PresignError`
   * (or an error with a 4xx `status`) to answer with that status and message.
   */
  authorize: (ctx: AuthorizeContext<Req>) => Id | boolean | Promise<Id | boolean>
  /**
   * Chooses the object key. The result must follow the key rules (no `..` segments, no
   * leading `/`, no control characters, at most 1,024 UTF-8 bytes).
   * @default `<keyPrefix><random uuid>/<sanitized filename>`
   */
  keyFor?: (ctx: KeyForContext<Req, Id>) => string | Promise<string>
  /**
   * Runs once the object has been verified on S3; what it returns is sent to the client
   * as `result`.
   */
  onComplete?: (ctx: CompleteContext<Req, Id>) => Result | Promise<Result>
  /**
   * Prefix of default keys (a trailing `/` is added when missing).
   * @default ''
   */
  keyPrefix?: string
  /**
   * Largest accepted file, in bytes; S3 itself enforces it (signed Content-Length).
   * @default 5 GiB for single uploads, S3's object limit with multipart
   */
  maxFileSize?: number
  /**
   * Accepted media types, with wildcards; enforced by signing Content-Type.
   * @default any
   * @example ['image/*', 'application/pdf']
   */
  allowedContentTypes?: readonly string[]
  /**
   * Seconds a presigned URL lives, at most 604,800 (7 days).
   * @default 600
   */
  expiresIn?: number
  /**
   * Allow an upload to replace an existing object. When false, uploads carry
   * `If-None-Match: *` and S3 refuses to replace.
   * @default false
   */
  overwrite?: boolean
  /**
   * When uploads go multipart, and in what part size.
   * @default { threshold: 100 MiB, partSize: max(5 MiB, size / 10,000 rounded up to 1 MiB) }
   */
  multipart?: { threshold?: number; partSize?: number }
  /**
   * Milliseconds an S3 call may take before the request fails with 504.
   * @default 5000
   */
  timeout?: number
  /**
   * Seconds an upload token lives (the time to finish an upload).
   * @default 86400 (24 hours)
   */
  tokenExpiresIn?: number
}

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB
export const TiB = 1024 * GiB
/** S3's single PUT limit. */
export const MAX_SINGLE_SIZE = 5 * GiB
export const MIN_PART_SIZE = 5 * MiB
export const MAX_PART_SIZE = 5 * GiB
export const MAX_PARTS = 10_000
/** S3's object size limit, 10,000 parts of 5 GiB (AWS calls it 48.8 TiB; it used to be 5 TiB). */
export const MAX_OBJECT_SIZE = MAX_PARTS * MAX_PART_SIZE
const MAX_EXPIRES_IN = 604_800

/** Options after validation: every default applied, nothing left to check per request. */
export interface ResolvedOptions<Req, Id extends Identity, Result> {
  bucket: string
  region: string | undefined
  s3: S3Client | S3ClientConfig
  secrets: readonly string[]
  authorize: PresignOptions<Req, Id, Result>['authorize']
  keyFor: PresignOptions<Req, Id, Result>['keyFor']
  onComplete: PresignOptions<Req, Id, Result>['onComplete']
  keyPrefix: string
  maxFileSize: number
  allowedContentTypes: readonly string[] | undefined
  expiresIn: number
  overwrite: boolean
  multipartThreshold: number
  partSize: number | undefined
  timeout: number
  tokenExpiresIn: number
}

export function resolveOptions<Req, Id extends Identity, Result>(
  options: PresignOptions<Req, Id, Result>,
): ResolvedOptions<Req, Id, Result> {
  if (typeof options !== 'object' || options === null) throw configError('options are required: presignMiddleware({ bucket, secret, authorize }).')
  const { bucket, secret, authorize } = options
  if (typeof bucket !== 'string' || bucket.length === 0) {
    throw configError('`bucket` is required: the name of the bucket that receives uploads, e.g. `bucket: process.env.S3_BUCKET`.')
  }
  const secrets = typeof secret === 'string' ? [secret] : secret
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some((s) => typeof s !== 'string')) {
    throw configError('`secret` is required: it seals upload tokens so that every instance of your app accepts them. Set `secret: process.env.PRESIGN_SECRET` to a random string of 32+ characters (e.g. `openssl rand -base64 32`), the same on every instance.')
  }
  if (secrets.some((s) => s.length < 16)) {
    throw configError('`secret` must be at least 16 characters long; use a random string of 32+ characters (e.g. `openssl rand -base64 32`).')
  }
  if (typeof authorize !== 'function') {
    throw configError('`authorize` is required: a function that returns the caller\'s identity `{ id }`, `true` for anonymous callers, or `false` to refuse. Write `authorize: () => true` to allow everyone.')
  }
  for (const hook of ['keyFor', 'onComplete'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw configError(`\`${hook}\` must be a function.`)
  }

  const expiresIn = options.expiresIn ?? 600
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_IN) {
    throw configError(`\`expiresIn\` must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN} (7 days, the SigV4 limit); got ${String(options.expiresIn)}.`)
  }
  const tokenExpiresIn = options.tokenExpiresIn ?? 86_400
  if (!Number.isInteger(tokenExpiresIn) || tokenExpiresIn < 60) {
    throw configError(`\`tokenExpiresIn\` must be a whole number of seconds, at least 60; got ${String(options.tokenExpiresIn)}.`)
  }
  const maxFileSize = options.maxFileSize ?? MAX_OBJECT_SIZE
  if (!Number.isSafeInteger(maxFileSize) || maxFileSize < 0 || maxFileSize > MAX_OBJECT_SIZE) {
    throw configError(`\`maxFileSize\` must be a whole number of bytes up to S3's object limit (${MAX_OBJECT_SIZE}); got ${String(options.maxFileSize)}.`)
  }
  const threshold = options.multipart?.threshold ?? 100 * MiB
  if (!Number.isSafeInteger(threshold) || threshold < 0 || threshold > MAX_SINGLE_SIZE) {
    throw configError(`\`multipart.threshold\` must be a whole number of bytes up to 5 GiB (S3's single PUT limit); got ${String(options.multipart?.threshold)}.`)
  }
  const partSize = options.multipart?.partSize
  if (partSize !== undefined && (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE)) {
    throw configError(`\`multipart.partSize\` must be a whole number of bytes from 5 MiB to 5 GiB (S3's part limits); got ${String(partSize)}.`)
  }
  const timeout = options.timeout ?? 5000
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw configError(`\`timeout\` must be a positive number of milliseconds; got ${String(options.timeout)}.`)
  }
  const allowed = options.allowedContentTypes
  if (allowed !== undefined && (!Array.isArray(allowed) || allowed.some((t) => typeof t !== 'string' || !t.includes('/') && t !== '*'))) {
    throw configError('`allowedContentTypes` must be a list of media types such as `[\'image/*\', \'application/pdf\']`.')
  }
  let keyPrefix = options.keyPrefix ?? ''
  if (typeof keyPrefix !== 'string' || keyPrefix.startsWith('/') || keyPrefix.split('/').includes('..') || Buffer.byteLength(keyPrefix) > MAX_KEY_BYTES / 2) {
    throw configError('`keyPrefix` must be a relative key prefix such as `\'uploads/\'` (no leading `/`, no `..`).')
  }
  if (keyPrefix && !keyPrefix.endsWith('/')) keyPrefix += '/'

  return {
    bucket,
    region: options.region,
    s3: options.s3 ?? {},
    secrets,
    authorize,
    keyFor: options.keyFor,
    onComplete: options.onComplete,
    keyPrefix,
    maxFileSize,
    allowedContentTypes: allowed,
    expiresIn,
    overwrite: options.overwrite === true,
    multipartThreshold: threshold,
    partSize,
    timeout,
    tokenExpiresIn,
  }
}
