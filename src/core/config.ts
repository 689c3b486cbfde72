import { createHash } from 'node:crypto'
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import { configError } from './errors'
import { MAX_KEY_BYTES, contentTypeMatcher } from './keys'
import { MAX_EXPIRES_IN, MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_SINGLE_SIZE, MIN_PART_SIZE, MiB } from './limits'
import type { Identity, PresignOptions } from './options'

/**
 * The options after validation (named `config`, as express-rate-limit does): every default
 * applied, every check done once at start-up, nothing left to check per request.
 * Field by field as in `PresignOptions`.
 */
export interface Config<Req, Id extends Identity, Result> {
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
  /** `allowedContentTypes` compiled */
  typeAllowed: (contentType: string) => boolean
  expiresIn: number
  overwrite: boolean
  multipartThreshold: number
  partSize: number | undefined
  timeout: number
  tokenExpiresIn: number
  uploadCredentials: PresignOptions<Req, Id, Result>['uploadCredentials']
  /**
   * The rules this presigner applies (bucket, key space, size, types, overwrite), as a short
   * hash sealed into every token and object tag: another presigner sharing the `secret` but not
   * the rules (another mount) refuses them (SPEC §5.9). The same options give the same scope,
   * so any instance, and an S3-event Lambda built with the same options, accepts them.
   */
  scope: string
}

/** Validates the options, throwing prefixed start-up errors that name the fix. */
export function resolveConfig<Req, Id extends Identity, Result>(options: PresignOptions<Req, Id, Result>): Config<Req, Id, Result> {
  if (typeof options !== 'object' || options === null)
    throw configError('options are required: presignMiddleware({ bucket, secret, authorize }).')
  const { bucket, secret, authorize } = options
  if (typeof bucket !== 'string' || bucket.length === 0) {
    throw configError('`bucket` is required: the name of the bucket that receives uploads, e.g. `bucket: process.env.S3_BUCKET`.')
  }
  const secrets = typeof secret === 'string' ? [secret] : secret
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some((s) => typeof s !== 'string')) {
    throw configError(
      '`secret` is required: it seals upload tokens so that every instance of your app accepts them. Set `secret: process.env.PRESIGN_SECRET` to a random string of 32+ characters (e.g. `openssl rand -base64 32`), the same on every instance.',
    )
  }
  if (secrets.some((s) => s.length < 16)) {
    throw configError(
      '`secret` must be at least 16 characters long; use a random string of 32+ characters (e.g. `openssl rand -base64 32`).',
    )
  }
  if (typeof authorize !== 'function') {
    throw configError(
      "`authorize` is required: a function that returns the caller's identity `{ id }`, `true` for anonymous callers, or `false` to refuse. Write `authorize: () => true` to allow everyone.",
    )
  }
  for (const hook of ['keyFor', 'onComplete'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw configError(`\`${hook}\` must be a function.`)
  }

  const expiresIn = options.expiresIn ?? 600
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_IN) {
    throw configError(
      `\`expiresIn\` must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN} (7 days, the SigV4 limit); got ${String(options.expiresIn)}.`,
    )
  }
  const tokenExpiresIn = options.tokenExpiresIn ?? 86_400
  if (!Number.isInteger(tokenExpiresIn) || tokenExpiresIn < 60) {
    throw configError(`\`tokenExpiresIn\` must be a whole number of seconds, at least 60; got ${String(options.tokenExpiresIn)}.`)
  }
  const maxFileSize = options.maxFileSize ?? MAX_OBJECT_SIZE
  if (!Number.isSafeInteger(maxFileSize) || maxFileSize < 0 || maxFileSize > MAX_OBJECT_SIZE) {
    throw configError(
      `\`maxFileSize\` must be a whole number of bytes up to S3's object limit (${MAX_OBJECT_SIZE}); got ${String(options.maxFileSize)}.`,
    )
  }
  const threshold = options.multipart?.threshold ?? 100 * MiB
  if (!Number.isSafeInteger(threshold) || threshold < 0 || threshold > MAX_SINGLE_SIZE) {
    throw configError(
      `\`multipart.threshold\` must be a whole number of bytes up to 5 GiB (S3's single PUT limit); got ${String(options.multipart?.threshold)}.`,
    )
  }
  const partSize = options.multipart?.partSize
  if (partSize !== undefined && (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE)) {
    throw configError(
      `\`multipart.partSize\` must be a whole number of bytes from 5 MiB to 5 GiB (S3's part limits); got ${String(partSize)}.`,
    )
  }
  const timeout = options.timeout ?? 5000
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw configError(`\`timeout\` must be a positive number of milliseconds; got ${String(options.timeout)}.`)
  }
  const allowed = options.allowedContentTypes
  if (allowed !== undefined && (!Array.isArray(allowed) || allowed.some((t) => typeof t !== 'string' || (!t.includes('/') && t !== '*')))) {
    throw configError("`allowedContentTypes` must be a list of media types such as `['image/*', 'application/pdf']`.")
  }
  let keyPrefix = options.keyPrefix ?? ''
  if (
    typeof keyPrefix !== 'string' ||
    keyPrefix.startsWith('/') ||
    keyPrefix.split('/').includes('..') ||
    Buffer.byteLength(keyPrefix) > MAX_KEY_BYTES / 2
  ) {
    throw configError("`keyPrefix` must be a relative key prefix such as `'uploads/'` (no leading `/`, no `..`).")
  }
  if (keyPrefix && !keyPrefix.endsWith('/')) keyPrefix += '/'
  const overwrite = options.overwrite === true
  const uploadCredentials = options.uploadCredentials
  if (
    uploadCredentials !== undefined &&
    typeof uploadCredentials !== 'function' &&
    (typeof uploadCredentials !== 'object' ||
      uploadCredentials === null ||
      typeof uploadCredentials.accessKeyId !== 'string' ||
      typeof uploadCredentials.secretAccessKey !== 'string')
  ) {
    throw configError(
      '`uploadCredentials` must be `{ accessKeyId, secretAccessKey, sessionToken? }` or a credential provider: the keys of an identity that may only `s3:PutObject` on your key space.',
    )
  }

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
    typeAllowed: contentTypeMatcher(allowed),
    expiresIn,
    overwrite,
    multipartThreshold: threshold,
    partSize,
    timeout,
    tokenExpiresIn,
    uploadCredentials,
    scope: scopeOf({ bucket, keyPrefix, maxFileSize, allowed, overwrite }),
  }
}

function scopeOf(rules: {
  bucket: string
  keyPrefix: string
  maxFileSize: number
  allowed: readonly string[] | undefined
  overwrite: boolean
}): string {
  const allowed = rules.allowed ? [...new Set(rules.allowed.map((t) => t.trim().toLowerCase()))].sort() : null
  const canonical = JSON.stringify([rules.bucket, rules.keyPrefix, rules.maxFileSize, allowed, rules.overwrite])
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16)
}
