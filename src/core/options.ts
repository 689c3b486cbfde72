import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'

/** What `authorize` returns for a known caller: tokens are bound to `id`. */
export interface Identity {
  id: string
  [key: string]: unknown
}

/** The actions `authorize` is asked about. Signing and listing parts count as `upload`. */
export type Action = 'upload' | 'download' | 'complete' | 'abort'

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
}

export interface KeyForContext<Req = unknown, Id extends Identity = Identity> {
  request: Req
  identity: Id | true
  file: FileInfo
}

/** What `onComplete` sees of the verified object, whichever way the upload finished. */
interface CompletedObject {
  key: string
  /** Bytes, as S3 reports them. */
  size: number
  contentType: string
  etag: string
  /** The object's user metadata (without the package's own tag). */
  metadata: Record<string, string>
}

/**
 * `onComplete`'s argument. `source` tells how the upload finished: `complete`, the client called
 * `/complete` (the request and the identity `authorize` returned are at hand); `event`, an S3
 * event notification given to `handleS3Event` (no request; the identity is the uploader's id
 * sealed in the object's tag, `true` for an anonymous uploader).
 */
export type CompleteContext<Req = unknown, Id extends Identity = Identity> = CompletedObject &
  ({ source: 'complete'; request: Req; identity: Id | true } | { source: 'event'; request: undefined; identity: { id: string } | true })

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
}
