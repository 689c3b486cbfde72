import type { CompleteResponse } from '../wire'
import { resumeUpload } from './auth'
import { PresignError, badRequest, isPresignError } from './errors'
import { asObject } from './input'
import { MAX_PARTS, formatBytes, partCountFor } from './limits'
import { PENDING_TAG, judgeSettings, settingTags, tagCountOf } from './object-settings'
import type { AbortContext, CompleteContext, Identity } from './options'
import { partsOnS3, uploadIdOf } from './parts'
import type { Core } from './presigner'
import type { StoredObject, StoredPart } from './storage'
import { OBJECT_TAG_METADATA, type UploadToken, filenameOf, withoutTag } from './token'

/**
 * Finishing an upload, whichever door it comes through (native `complete`, Uppy's complete, S3
 * events): the object is judged against what its upload claimed, one that breaks a rule and
 * that this upload wrote is removed, and only then does `onComplete` run.
 */

/** What an object must be. */
export interface Expected {
  maxFileSize: number
  /** the declared size, when one was declared */
  size?: number
  /** the declared type (exact), or a predicate on it (events: the allowed types) */
  contentType: string | ((contentType: string) => boolean)
  /** base64 SHA-256, checked where the store reports one */
  checksum?: string
}

/** Why an object does not meet what was expected of it, or undefined when it does. Pure. */
export function judgeObject(object: StoredObject, expected: Expected): string | undefined {
  if (object.size > expected.maxFileSize)
    return `The uploaded file is ${object.size} bytes, over the limit of ${expected.maxFileSize} (maxFileSize).`
  if (expected.size !== undefined && object.size !== expected.size)
    return `The uploaded file is ${object.size} bytes, not the ${expected.size} bytes declared.`
  const type = object.contentType ?? ''
  if (typeof expected.contentType === 'string' ? type !== expected.contentType : !expected.contentType(type)) {
    return typeof expected.contentType === 'string'
      ? `The uploaded file's type is ${object.contentType ?? 'missing'}, not the declared ${expected.contentType}.`
      : `Its type ${object.contentType ?? '(missing)'} is not allowed.`
  }
  if (expected.checksum && object.checksumSha256 && object.checksumSha256 !== expected.checksum) {
    return "The uploaded file's checksum does not match the declared one."
  }
  return undefined
}

/** What an upload was, for `onAbort`. */
type AbortedUpload = Pick<UploadToken, 'key' | 'bucket' | 'contentType'> & { size?: number | undefined }

/**
 * Tells `onAbort` that an upload will not complete. Its failure never changes the answer (the
 * abort or the refusal stands): it is reported to `onError`.
 */
export async function notifyAbort<Req>(
  core: Core<Req, any, any>,
  upload: AbortedUpload,
  reason: AbortContext['reason'],
  from: Pick<AbortContext<Req, any>, 'source' | 'request' | 'identity'>,
): Promise<void> {
  const hook = core.config.onAbort
  if (!hook) return
  const { route } = core.config
  const context = {
    ...from,
    reason,
    key: upload.key,
    bucket: upload.bucket,
    ...(upload.size === undefined ? {} : { declaredSize: upload.size }),
    contentType: upload.contentType,
    ...(route ? { route } : {}),
  } as AbortContext<Req, any>
  try {
    await hook(context)
  } catch (error) {
    try {
      core.config.onError({ error, code: 'internal_error', status: 500, action: 'abort', ...(route ? { route } : {}) })
    } catch (failure) {
      console.error('[s3-presign-middleware] onError threw:', failure)
    }
  }
}

/** The tags an accepted upload keeps: its own, without the pending tag. */
async function clearPending(core: Core, bucket: string, key: string, settings: Record<string, string> | undefined) {
  const tags = settingTags(settings)
  if (!(PENDING_TAG in tags)) return
  delete tags[PENDING_TAG]
  await core.at(bucket).storage.putTags(key, tags)
}

/**
 * Runs `onComplete` for a verified object of this upload; its return value goes to the client as
 * `result`. A `PresignError` from the hook is a refusal (a virus scan, a quota): the object is
 * removed, then the error answers (SPEC §5.12). Any other error is a crash: the object is kept
 * (a retried `complete` re-runs the hook) and the error goes to the host. Once the hook accepted
 * the object, its pending tag (`pendingTag`) is cleared: only then is it kept for good.
 */
export async function runOnComplete<Req, Result>(
  core: Core<Req, any, Result>,
  upload: Pick<UploadToken, 'key' | 'bucket' | 'contentType' | 'settings'> & { size?: number | undefined },
  object: StoredObject,
  from: Pick<CompleteContext<Req, any>, 'source' | 'request' | 'identity'>,
): Promise<Result> {
  const { bucket, key } = upload
  const hook = core.config.onComplete
  if (!hook) {
    await clearPending(core, bucket, key, upload.settings)
    return null as Result
  }
  const { route } = core.config
  const metadata = withoutTag(object.metadata)
  const contentType = object.contentType ?? ''
  const file = { filename: filenameOf(object.metadata) ?? key.slice(key.lastIndexOf('/') + 1), contentType, size: object.size, metadata }
  const context = {
    ...from,
    key,
    bucket,
    ...(route ? { route } : {}),
    size: object.size,
    ...(upload.size === undefined ? {} : { declaredSize: upload.size }),
    contentType,
    etag: object.etag,
    metadata,
    file,
  } as CompleteContext<Req, any>
  let result: Result
  try {
    result = ((await hook(context)) ?? null) as Result
  } catch (error) {
    if (isPresignError(error)) {
      await core.at(bucket).storage.delete(key)
      await notifyAbort(core, upload, 'refused', from)
    }
    throw error
  }
  await clearPending(core, bucket, key, upload.settings)
  return result
}

/**
 * Checks that the object at the token's key is this upload's (its sealed tag), of the declared
 * size, type and checksum, stored with its object settings. A mismatching object that this
 * upload wrote is deleted; one it did not write (e.g. the object an overwrite was refused for)
 * is never touched.
 */
async function verifyUpload(
  core: Core,
  upload: UploadToken,
  size: number | undefined,
  from: Pick<AbortContext, 'source' | 'request' | 'identity'>,
): Promise<StoredObject> {
  const checksum = upload.checksum && !upload.uploadId ? upload.checksum : undefined
  const object = await core.at(upload.bucket).storage.head(upload.key, { checksum: checksum !== undefined })
  if (!object) throw new PresignError('verification_failed', 'The file has not been uploaded to storage.')
  if (object.unreadable) {
    // An uploader's own encryption key (SSE-C, unsigned headers a store applied): nobody else can
    // read, scan or serve it. Not an object any upload through us writes.
    await core.at(upload.bucket).storage.delete(upload.key)
    await notifyAbort(core, upload, 'refused', from)
    throw new PresignError(
      'verification_failed',
      'The file was stored encrypted with a key of its own, which the app cannot read. It was removed.',
    )
  }
  if (object.metadata[OBJECT_TAG_METADATA] !== upload.tag) {
    throw new PresignError('verification_failed', 'The object at this key was not written by this upload.')
  }
  const problem =
    judgeObject(object, {
      maxFileSize: upload.maxFileSize,
      ...(size === undefined ? {} : { size }),
      contentType: upload.contentType,
      ...(checksum ? { checksum } : {}),
    }) ??
    judgeSettings(object, upload.settings) ??
    (await judgeTags(core, upload, object))
  if (problem) {
    await core.at(upload.bucket).storage.delete(upload.key)
    await notifyAbort(core, upload, 'refused', from)
    throw new PresignError('verification_failed', `${problem} It was removed.`)
  }
  return object
}

/**
 * The tags an upload was signed with (a single PUT or a POST policy) must be on its object. A
 * multipart upload's were sent by the server, not the client: a store that ignores tags on
 * CreateMultipartUpload (Ceph RGW 16) gets them now.
 */
async function judgeTags(core: Core, upload: UploadToken, object: StoredObject): Promise<string | undefined> {
  const expected = tagCountOf(upload.settings)
  if (object.tagCount === expected) return undefined
  // Accepted already (a retried complete): the pending tag was cleared.
  const pending = PENDING_TAG in settingTags(upload.settings)
  if (pending && object.tagCount === expected - 1) return undefined
  if (upload.uploadId && expected > 0) {
    await core.at(upload.bucket).storage.putTags(upload.key, settingTags(upload.settings))
    return undefined
  }
  return `Storage kept the file with ${object.tagCount} tags, not the ${expected} it was uploaded with.`
}

/** Finishes (multipart) and verifies an upload whose token was opened and checked, then runs `onComplete`. */
export async function finishUpload<Req, Result>(
  core: Core<Req, any, Result>,
  upload: UploadToken,
  identity: Identity | true,
  request: Req,
  clientParts?: unknown,
): Promise<CompleteResponse<Result>> {
  const from = { source: 'complete' as const, request, identity }
  const size = upload.uploadId ? await finishMultipart(core, upload, from, clientParts) : upload.size
  const object = await verifyUpload(core, upload, size, from)
  const result = await runOnComplete(core, upload, object, from)
  return { key: upload.key, size: object.size, contentType: upload.contentType, etag: object.etag, result }
}

/** `POST /complete` */
export async function complete<Req, Result>(core: Core<Req, any, Result>, body: unknown, request: Req, mount?: string) {
  const input = asObject(body)
  const { upload, identity } = await resumeUpload(core, 'complete', input.token, request, mount)
  return finishUpload(core, upload, identity, request, input.parts)
}

/**
 * `POST /abort` (idempotent): cancels a multipart upload. A single upload has nothing to cancel on
 * S3, and its object (if its PUT arrived) is left where it is: deleting it would free the key for
 * the still-valid PUT URL, and race a concurrent `complete`. With `pendingTag` it stays tagged
 * pending and the lifecycle rule expires it; a completed upload (no longer pending) is never
 * reported to `onAbort`. `onAbort` may still hear of an upload that a concurrent `complete`
 * finishes, and of a repeated abort: keep books by key.
 */
export async function abort<Req>(core: Core<Req>, body: unknown, request: Req, mount?: string): Promise<Record<string, never>> {
  const { upload, identity } = await resumeUpload(core, 'abort', asObject(body).token, request, mount)
  const { storage } = core.at(upload.bucket)
  if (upload.uploadId) {
    if (!(await storage.abortMultipart(upload.key, upload.uploadId))) return {}
  } else if (settingTags(upload.settings)[PENDING_TAG]) {
    const object = await storage.head(upload.key)
    const ours = object !== undefined && !object.unreadable && object.metadata[OBJECT_TAG_METADATA] === upload.tag
    if (ours && !(PENDING_TAG in (await storage.getTags(upload.key)))) return {} // completed: not aborted
  }
  await notifyAbort(core, upload, 'abort', { source: 'abort', request, identity })
  return {}
}

function alreadyExists() {
  return new PresignError('already_exists', 'A file already exists at this key; it was not replaced.')
}

/**
 * Completes a multipart upload after checking, from what S3 itself reports, that every part
 * is there and that the whole is no larger than declared and than `maxFileSize`; an upload
 * that is too large is aborted. Returns the object's size (undefined when not known yet).
 */
async function finishMultipart(
  core: Core,
  upload: UploadToken,
  from: Pick<AbortContext, 'source' | 'request' | 'identity'>,
  clientParts?: unknown,
): Promise<number | undefined> {
  const uploadId = uploadIdOf(upload)
  let parts: StoredPart[] | 'unsupported'
  try {
    parts = await partsOnS3(core, upload)
  } catch (error) {
    // Already completed (a retried complete): the object, if it is ours, is verified next.
    if (isPresignError(error) && error.code === 'upload_not_found') return upload.size
    throw error
  }
  if (parts === 'unsupported') {
    // A store without ListParts (s3rver, the demo store): complete from the client's list; the
    // size is then checked on the finished object instead (verifyUpload removes it if over).
    await completeOnS3(core, upload, uploadId, listedByClient(clientParts))
    return upload.size
  }
  parts.sort((a, b) => a.partNumber - b.partNumber)
  const total = parts.reduce((sum, p) => sum + p.size, 0)
  const limit = upload.size !== undefined ? Math.min(upload.size, upload.maxFileSize) : upload.maxFileSize
  if (total > limit) {
    await core.at(upload.bucket).storage.abortMultipart(upload.key, uploadId)
    await notifyAbort(core, upload, 'refused', from)
    throw new PresignError(
      'file_too_large',
      `The uploaded parts add up to ${formatBytes(total)}, over the limit of ${formatBytes(limit)}; the upload was aborted.`,
    )
  }
  const expected = upload.size !== undefined && upload.partSize ? partCountFor(upload.size, upload.partSize) : parts.length
  const missing = parts.length === 0 || parts.length !== expected || parts.some((p, i) => p.partNumber !== i + 1)
  if (missing || (upload.size !== undefined && total !== upload.size)) {
    throw new PresignError(
      'verification_failed',
      `Storage holds ${parts.length} of ${expected} parts (${formatBytes(total)}); upload the missing parts, then complete again.`,
    )
  }
  await completeOnS3(core, upload, uploadId, parts)
  return total
}

/**
 * CompleteMultipartUpload with `If-None-Match: *` unless overwriting. Stores that ignore the
 * condition there (RGW) would replace an object, so look first. (A writer racing between this
 * HEAD and the completion is not caught on such a store; AWS enforces the condition itself.)
 */
async function completeOnS3(core: Core, upload: UploadToken, uploadId: string, parts: StoredPart[]) {
  const { overwrite } = upload
  if (!overwrite) {
    const existing = await core.at(upload.bucket).storage.head(upload.key)
    if (existing && existing.metadata[OBJECT_TAG_METADATA] !== upload.tag) {
      await core.at(upload.bucket).storage.abortMultipart(upload.key, uploadId)
      throw alreadyExists()
    }
  }
  const outcome = await core.at(upload.bucket).storage.completeMultipart(upload.key, uploadId, parts, !overwrite)
  if (outcome === 'exists') {
    await core.at(upload.bucket).storage.abortMultipart(upload.key, uploadId)
    throw alreadyExists()
  }
  if (outcome === 'bad-parts') {
    // Parts S3 will never accept (every part but the last must be at least 5 MiB): the upload
    // cannot finish, so nothing is left behind.
    await core.at(upload.bucket).storage.abortMultipart(upload.key, uploadId)
    throw new PresignError(
      'verification_failed',
      'Storage refused the parts (every part but the last must be at least 5 MiB); the upload was aborted.',
    )
  }
}

/** The `parts` a client sent to complete (`{ partNumber, etag }`, or Uppy's `{ PartNumber, ETag }`). */
function listedByClient(parts: unknown): StoredPart[] {
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PARTS) {
    throw badRequest('This storage cannot list parts: send `parts` ([{ partNumber, etag }]) with complete.')
  }
  return parts
    .map((p) => {
      const part = asObject(p)
      const partNumber = part.partNumber ?? part.PartNumber
      const etag = part.etag ?? part.ETag
      if (typeof partNumber !== 'number' || !Number.isInteger(partNumber) || partNumber < 1 || typeof etag !== 'string') {
        throw badRequest('Each part needs a whole `partNumber` and an `etag`.')
      }
      return { partNumber, etag, size: 0 }
    })
    .sort((a, b) => a.partNumber - b.partNumber)
}
