import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import type { ErrorCode } from '../wire'
import type { ObjectSettings } from './object-settings'

/**
 * What `authorize` returns for a known caller: tokens are bound to `id` (a number is bound as its
 * decimal string). Any interface with an `id` fits, e.g. Passport's `Express.User`.
 */
export interface Identity {
  id: string | number
}

/** What `authorize` may answer besides an identity or `true`: a refusal (403). Hooks never see it. */
export type Refusal = false | null | undefined

/**
 * What an S3 event knows of the uploader (`source: 'event'`): the id sealed in the object's tag,
 * as `authorize` returned it (string or number), or `true` for an anonymous upload.
 */
export type Uploader<Id extends Identity | true> = Id extends Identity ? { id: Id['id'] } : Id

/** The actions `authorize` is asked about. Signing and listing parts count as `upload`. */
export type Action = 'upload' | 'download' | 'delete' | 'complete' | 'abort'

/** The file a caller wants to upload, as declared in `create` (or Uppy's routes). */
export interface FileInfo {
  /** The name the client gave, before sanitizing (the default key uses a sanitized copy). */
  filename: string
  contentType: string
  /** Bytes; undefined when the client did not declare a size (Uppy's `/s3/params` and multipart). */
  size?: number
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
  /** The name of the upload route (with `routes`). */
  route?: string
}

export interface KeyForContext<Req = unknown, Id extends Identity | true = Identity | true> {
  request: Req
  identity: Id
  file: FileInfo
  /** The name of the upload route (with `routes`). */
  route?: string
}

/**
 * What a rule given as a function sees: the request, who asks, and for a new upload the file.
 * `file` is undefined for downloads and deletes (only `bucket` and `keyPrefix` are asked there).
 */
export interface RuleContext<Req = unknown, Id extends Identity | true = Identity | true> {
  request: Req
  identity: Id
  file: FileInfo | undefined
  /** The name of the upload route (with `routes`). */
  route: string | undefined
}

/**
 * A rule: a value, or a function of the request (sync or async), e.g. a bucket per tenant or a
 * size limit per plan. What it returned when an upload was created is sealed into its token and
 * binds every later step of that upload.
 */
export type Rule<T, Req = unknown, Id extends Identity | true = Identity | true> = T | ((ctx: RuleContext<Req, Id>) => T | Promise<T>)

/** What `onComplete` sees of the verified object, whichever way the upload finished. */
interface CompletedObject {
  key: string
  /** Bytes, as S3 reports them. */
  size: number
  contentType: string
  etag: string
  /** The object's user metadata (without the package's own tag and file name). */
  metadata: Record<string, string>
  /**
   * The file as the client declared it when the upload started: its original (UTF-8) `filename`
   * (signed into the upload), and the type, size and metadata verified on S3.
   */
  file: FileInfo
  /** The bucket it is in (a `bucket` rule may choose one per request). */
  bucket: string
  /** The name of the upload route (with `routes`). */
  route?: string
  /**
   * The size the client declared at the start (then equal to `size`), or undefined when it
   * declared none (Uppy's routes) or the upload finished through an S3 event.
   */
  declaredSize?: number
}

/**
 * `onComplete`'s argument. `source` tells how the upload finished: `complete`, the client called
 * `/complete` (the request and the identity `authorize` returned are at hand); `event`, an S3
 * event notification given to `handleS3Event` (no request; the identity is the uploader's id
 * sealed in the object's tag, `true` for an anonymous uploader).
 */
export type CompleteContext<Req = unknown, Id extends Identity | true = Identity | true> = CompletedObject &
  ({ source: 'complete'; request: Req; identity: Id } | { source: 'event'; request: undefined; identity: Uploader<Id> })

/**
 * `onAbort`'s argument: an upload that will not complete. `reason` is `abort` when the client
 * cancelled it (`/abort`, Uppy's DELETE), `refused` when its object was refused after the upload
 * (verification failed, `onComplete` threw a `PresignError`, the parts exceeded the limit) and
 * removed. Release what `authorize` reserved for it (a quota) here.
 */
export type AbortContext<Req = unknown, Id extends Identity | true = Identity | true> = {
  reason: 'abort' | 'refused'
  key: string
  bucket: string
  /** The size the client declared at the start (undefined when it declared none: Uppy). */
  declaredSize?: number
  contentType: string
  /** The name of the upload route (with `routes`). */
  route?: string
} & ({ source: 'complete' | 'abort'; request: Req; identity: Id } | { source: 'event'; request: undefined; identity: Uploader<Id> })

/** What `onError` hears of: an error answer, a hook that threw, a refusal. */
export interface ErrorEvent {
  /** The error: a `PresignError` for answers we gave, the hook's own error otherwise (its `cause` may hold S3's). */
  error: unknown
  code: ErrorCode
  /** The status answered (500 for an error passed to the host's error handler). */
  status: number
  action: Action
  /** The name of the upload route (with `routes`). */
  route?: string
}

/** The options of `createPresigner` and of every adapter. */
export interface PresignOptions<Req = unknown, Id extends Identity | true = Identity | true, Result = unknown> {
  /**
   * The bucket that receives uploads, or a function of the request (a bucket per tenant).
   * @example 'my-app-uploads'
   * @example ({ identity }) => `tenant-${identity === true ? 'public' : identity.tenant}`
   */
  bucket: Rule<string, Req, Id>
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
   * `id`), `true` for an anonymous one, `false` (or throw) to refuse. The hooks and rules get what
   * it returns as `ctx.identity`, typed as such: `true` only if it can return `true`. Write it
   * before the hooks in the options object (TypeScript infers the identity in order). Throw a `PresignError`
   * (or an error with a 4xx `status`) to answer with that status and message.
   */
  authorize: (ctx: AuthorizeContext<Req>) => Id | Refusal | Promise<Id | Refusal>
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
  keyPrefix?: Rule<string, Req, Id>
  /**
   * Largest accepted file, in bytes; S3 itself enforces it (signed Content-Length). A function
   * gives a limit per request (per plan).
   * @default S3's object limit (10,000 parts of 5 GiB)
   * @example ({ identity }) => (identity !== true && identity.plan === 'pro' ? 5e9 : 50e6)
   */
  maxFileSize?: Rule<number, Req, Id>
  /**
   * Accepted media types, with wildcards; enforced by signing Content-Type. A wildcard never
   * admits a script-capable type (`image/svg+xml`, `text/html`): list those exactly.
   * @default any
   * @example ['image/*', 'application/pdf']
   */
  allowedContentTypes?: Rule<readonly string[], Req, Id>
  /**
   * Seconds a presigned URL lives, at most 604,800 (7 days).
   * @default 600
   */
  expiresIn?: Rule<number, Req, Id>
  /**
   * Allow an upload to replace an existing object. When false, uploads carry
   * `If-None-Match: *` and S3 refuses to replace.
   * @default false
   */
  overwrite?: Rule<boolean, Req, Id>
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
   * Credentials used only to sign upload URLs (PUT, parts) and POST policies: give them
   * `s3:PutObject` on the key space and nothing else (least privilege). API calls (HEAD, multipart,
   * DELETE) and download URLs keep the `s3` client's credentials. Needed on stores that apply
   * unsigned `x-amz-*` headers of presigned requests (Ceph RGW 16; AWS refuses them): there an
   * upload URL signed by an identity that can read becomes a copy of any readable object
   * (`x-amz-copy-source`). `npx s3-presign-middleware doctor` tells whether a store does this.
   * @default the `s3` client's credentials
   * @example { accessKeyId: process.env.UPLOADER_KEY_ID, secretAccessKey: process.env.UPLOADER_SECRET }
   */
  uploadCredentials?: S3ClientConfig['credentials']
  /**
   * Seconds an upload token lives (the time to finish an upload).
   * @default 86400 (24 hours)
   */
  tokenExpiresIn?: number
  /**
   * Hears of every error answer (4xx refusals and 5xx storage failures) and of every hook that
   * threw, for logs and metrics; it never changes the answer.
   * @default one line on `console.error` for 5xx answers and hook failures; refusals are quiet
   * @example onError: ({ error, code, status, action }) => logger.warn({ err: error, code, status, action }, 'upload route error')
   */
  onError?: (event: ErrorEvent) => void
  /**
   * Runs when an upload will not complete: the client aborted it, or its object was refused and
   * removed. For releasing what `authorize` reserved (a per-user quota). Uploads that are simply
   * never finished do not call it: their token expires (`tokenExpiresIn`).
   */
  onAbort?: (ctx: AbortContext<Req, Id>) => void | Promise<void>
  /**
   * Settings every upload is stored with, signed into the upload so the client cannot drop or
   * change them: encryption, storage class, `Cache-Control`, `Content-Disposition`, tags. A
   * function gives settings per request. The browser sends them as headers: allow them in the
   * bucket's CORS (`doctor --header`).
   * @example { serverSideEncryption: 'aws:kms', kmsKeyId: process.env.KMS_KEY_ID, cacheControl: 'private, max-age=3600' }
   */
  object?: Rule<ObjectSettings, Req, Id>
  /**
   * Tag every upload `presign-pending=1` until `complete` (or `handleS3Event`) has verified it
   * and `onComplete` accepted it; with the lifecycle rule `doctor --fix --expire-pending <days>`
   * writes, objects nobody finished expire. Needs `s3:PutObjectTagging` and a store with object
   * tags (AWS, Ceph RGW, MinIO).
   * @default false
   */
  pendingTag?: boolean
  /**
   * Named upload kinds, each with its own rules and hooks; unset options come from the top level.
   * Every route then lives under `/<name>/` (`/avatar/create`, `/avatar/s3/multipart`, ...): point
   * Uppy's or the client's `endpoint` at `<mount>/<name>`. A token of one route is refused by
   * every other.
   * @example { avatar: { allowedContentTypes: ['image/*'], maxFileSize: 5_000_000 }, document: { allowedContentTypes: ['application/pdf'] } }
   */
  routes?: Record<string, RouteOptions<Req, Id, Result>>
}

/** The options of one named route: any option but `secret` and `routes`. */
export type RouteOptions<Req = unknown, Id extends Identity | true = Identity | true, Result = unknown> = Partial<
  Omit<PresignOptions<Req, Id, Result>, 'secret' | 'routes'>
>
