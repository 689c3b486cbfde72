import type { CreateResponse } from '../wire'
import { authorize, identityIdOf } from './auth'
import { type Rules, rulesFor } from './config'
import { PresignError } from './errors'
import { asChecksum, asContentType, asMetadata, asObject, asSize, asString } from './input'
import { assertValidKey, defaultKey } from './keys'
import { MAX_SINGLE_SIZE, formatBytes, partCountFor, partSizeFor } from './limits'
import { type MaybePromise, isPromiseLike } from './maybe-promise'
import { settingsFor } from './object-settings'
import type { FileInfo, Identity } from './options'
import type { BucketServices, Core } from './presigner'
import { FILENAME_METADATA, OBJECT_TAG_METADATA, type UploadToken } from './token'

/** Starting an upload: the policy every new upload passes, then single PUT, multipart or POST policy. */

function refuseOverLimit(size: number | undefined, limit: number) {
  if (size !== undefined && size > limit) {
    throw new PresignError('file_too_large', `This file is ${formatBytes(size)}; the limit is ${formatBytes(limit)}.`)
  }
}

/** What `begin` gives a strategy. */
export interface Begun<Id> {
  identity: Id
  upload: UploadToken
  /** the user metadata the upload writes: the user's, the file name and our tag */
  metadata: Record<string, string>
  services: BucketServices
}

/**
 * What every new upload starts with: an authorized caller, a file within the rules, a valid key,
 * and the token it will carry (strategies add their fields). Synchronous when the hooks and
 * rules are: each step goes on at once with a value, or when a promise settles.
 */
export function begin<Req, Id extends Identity | true>(
  core: Core<Req, Id>,
  file: FileInfo,
  request: Req,
  mount?: string,
): MaybePromise<Begun<Id>> {
  const identity = authorize(core, 'upload', request, { file })
  return isPromiseLike(identity)
    ? identity.then((identity) => withIdentity(core, file, request, mount, identity))
    : withIdentity(core, file, request, mount, identity)
}

function withIdentity<Req, Id extends Identity | true>(
  core: Core<Req, Id>,
  file: FileInfo,
  request: Req,
  mount: string | undefined,
  identity: Id,
): MaybePromise<Begun<Id>> {
  const { config } = core
  // Static rules are resolved once, at start-up.
  if (config.staticRules) return withRules(core, file, request, mount, identity, config.staticRules)
  return rulesFor(config, { request, identity, file, route: config.route }).then((rules) =>
    withRules(core, file, request, mount, identity, rules),
  )
}

function withRules<Req, Id extends Identity | true>(
  core: Core<Req, Id>,
  file: FileInfo,
  request: Req,
  mount: string | undefined,
  identity: Id,
  rules: Rules,
): MaybePromise<Begun<Id>> {
  const { config } = core
  const { route } = config
  refuseOverLimit(file.size, rules.maxFileSize)
  if (!rules.typeAllowed(file.contentType)) {
    throw new PresignError('content_type_not_allowed', `Files of type ${file.contentType} are not allowed.`)
  }
  if (!config.keyFor) return sealUpload(core, file, identity, rules, defaultKey(rules.keyPrefix, file.filename), mount)
  const key = config.keyFor({ request, identity, file, ...(route ? { route } : {}) })
  return isPromiseLike(key)
    ? Promise.resolve(key).then((key) => sealUpload(core, file, identity, rules, key, mount))
    : sealUpload(core, file, identity, rules, key, mount)
}

function sealUpload<Req, Id extends Identity | true>(
  core: Core<Req, Id>,
  file: FileInfo,
  identity: Id,
  rules: Rules,
  key: string,
  mount: string | undefined,
): Begun<Id> {
  const { config } = core
  assertValidKey(key)
  const { bucket, maxFileSize, overwrite, expiresIn } = rules
  const settings = settingsFor(config, rules.object, file)
  // Assigned in the token's order, not spread: `create` runs this for every upload.
  const upload: UploadToken = {
    key,
    contentType: file.contentType,
    identityId: identityIdOf(identity),
    tag: core.tags.seal({ scope: config.scope, bucket, key }, { identityId: identity === true ? null : identity.id, maxFileSize }),
    expiresAt: Math.floor(Date.now() / 1000) + config.tokenExpiresIn,
    scope: config.scope,
    bucket,
    maxFileSize,
    overwrite,
    expiresIn,
  }
  if (file.size !== undefined) upload.size = file.size
  if (mount !== undefined) upload.mount = mount
  if (settings) upload.settings = settings
  const metadata: Record<string, string> = {}
  for (const name in file.metadata) metadata[name] = file.metadata[name]!
  metadata[FILENAME_METADATA] = encodeURIComponent(file.filename)
  metadata[OBJECT_TAG_METADATA] = upload.tag
  refuseOversizedMetadata(metadata)
  return { identity, upload, metadata, services: core.at(bucket) }
}

/** S3 stores at most 2 KB of user metadata, names and values. */
function refuseOversizedMetadata(metadata: Record<string, string>) {
  let bytes = 0
  for (const name in metadata) bytes += name.length + metadata[name]!.length
  if (bytes > 2048) {
    throw new PresignError(
      'invalid_request',
      "The file name, metadata and the uploader's identity id (carried in the object tag) are too long together: S3 stores at most 2 KB.",
    )
  }
}

let expirySecond = Number.NaN
let expiryLifetime = Number.NaN
let expiryText = ''

/**
 * When URLs signed now for `seconds` stop working (ISO 8601, whole seconds as the signature's
 * `X-Amz-Date`), remembered for the current second: formatting a date costs as much as a hash.
 */
export function expiresAt(seconds: number): string {
  const second = Math.floor(Date.now() / 1000)
  if (second !== expirySecond || seconds !== expiryLifetime) {
    expirySecond = second
    expiryLifetime = seconds
    expiryText = new Date((second + seconds) * 1000).toISOString()
  }
  return expiryText
}

/** `POST /create`: a signed single PUT, or a multipart upload above the threshold. */
export async function create<Req>(core: Core<Req>, body: unknown, request: Req, mount?: string): Promise<CreateResponse> {
  const { config } = core
  const input = asObject(body)
  const file: FileInfo = {
    filename: asString(input.filename, 'filename'),
    contentType: asContentType(input.contentType),
    size: asSize(input.size),
    metadata: asMetadata(input.metadata),
  }
  const size = file.size!
  const checksum = asChecksum(input.checksum)

  if (size > config.multipartThreshold && size > 0) {
    const { upload, token } = await startMultipart(core, file, request, checksum, mount)
    return {
      strategy: 'multipart',
      token,
      key: upload.key,
      partSize: upload.partSize!,
      partCount: partCountFor(size, upload.partSize!),
      expiresAt: new Date(upload.expiresAt * 1000).toISOString(),
    }
  }

  const begun = begin(core, file, request, mount)
  const { upload, metadata, services } = isPromiseLike(begun) ? await begun : begun
  refuseOverLimit(size, Math.min(upload.maxFileSize, MAX_SINGLE_SIZE))
  if (checksum) upload.checksum = checksum
  const signing = services.uploadSigner.putObject(
    {
      key: upload.key,
      contentType: file.contentType,
      size,
      ifNoneMatch: !upload.overwrite,
      metadata,
      checksum,
      settings: upload.settings,
    },
    upload.expiresIn,
  )
  const { url, headers } = isPromiseLike(signing) ? await signing : signing
  return {
    strategy: 'single',
    token: core.tokens.seal(upload),
    key: upload.key,
    method: 'PUT',
    url,
    headers,
    expiresAt: expiresAt(upload.expiresIn),
  }
}

/** Starts a multipart upload on S3 (native `create` above the threshold, and Uppy's `/s3/multipart`). */
export async function startMultipart<Req>(core: Core<Req>, file: FileInfo, request: Req, checksum?: string, mount?: string) {
  const { config } = core
  const { upload: base, metadata, services } = await begin(core, file, request, mount)
  const uploadId = await services.storage.createMultipart({
    key: base.key,
    contentType: file.contentType,
    metadata,
    checksum: checksum !== undefined,
    settings: base.settings,
  })
  const partSize = file.size === undefined ? undefined : partSizeFor(file.size, config.partSize)
  const upload: UploadToken = { ...base, uploadId, ...(partSize ? { partSize } : {}), ...(checksum ? { checksum } : {}) }
  return { upload, token: core.tokens.seal(upload) }
}

/**
 * Uppy's `/s3/params`: a POST policy capped at the size limit (Uppy declares no size).
 *
 * POST Object takes no `If-None-Match`, so S3 cannot refuse to replace an object on this path,
 * and a policy can be replayed until it expires. Default keys are fresh (a random UUID each), so
 * they never name an existing object. A `keyFor` may repeat keys: then, unless `overwrite`, this
 * path is refused (409) and Uppy must go multipart (`shouldUseMultipart: () => true`), whose
 * completion carries `If-None-Match: *` (SPEC §5.12).
 */
export async function startPostPolicy<Req>(core: Core<Req>, file: FileInfo, request: Req) {
  const { upload, metadata, services } = await begin(core, file, request)
  if (!upload.overwrite && core.config.keyFor) {
    throw new PresignError(
      'conflict',
      'This upload route chooses its own keys and never replaces files, which a form upload cannot promise: upload through multipart (Uppy: shouldUseMultipart: () => true).',
    )
  }
  const policy = await services.uploadSigner.postObject(
    {
      key: upload.key,
      contentType: file.contentType,
      maxSize: Math.min(upload.maxFileSize, MAX_SINGLE_SIZE),
      metadata,
      settings: upload.settings,
    },
    upload.expiresIn,
  )
  return { ...policy, expiresIn: upload.expiresIn }
}
