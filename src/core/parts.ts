import type { ListPartsResponse, SignPartsResponse } from '../wire'
import { resumeUpload } from './auth'
import { PresignError, badRequest } from './errors'
import { asChecksum, asObject } from './input'
import { MAX_SIGN_BATCH } from '../wire'
import { MAX_PARTS, MIN_PART_SIZE, partCountFor, partLength } from './limits'
import { isPromiseLike } from './maybe-promise'
import type { Core } from './presigner'
import type { PartToSign } from './signing/signer'
import type { StoredPart } from './storage'
import type { UploadToken } from './token'

/** Signing and listing the parts of a multipart upload. */

export function uploadIdOf(upload: UploadToken): string {
  if (!upload.uploadId) throw badRequest('This is not a multipart upload.')
  return upload.uploadId
}

/** The highest part number this upload may sign: S3 itself then refuses any other. */
export function partLimit(upload: UploadToken): number {
  if (upload.size !== undefined && upload.partSize) return partCountFor(upload.size, upload.partSize)
  return Math.min(MAX_PARTS, Math.max(1, Math.ceil(upload.maxFileSize / MIN_PART_SIZE)))
}

/** Part `partNumber` to sign, after checking it is one this upload may have. */
function partToSign(upload: UploadToken, limit: number, partNumber: unknown): PartToSign {
  const uploadId = uploadIdOf(upload)
  if (typeof partNumber !== 'number' || !Number.isInteger(partNumber) || partNumber < 1 || partNumber > limit) {
    throw badRequest(`Part numbers run from 1 to ${limit} for this upload.`)
  }
  const size = upload.size !== undefined && upload.partSize ? partLength(partNumber, upload.size, upload.partSize) : undefined
  return { key: upload.key, uploadId, partNumber, size }
}

/** One part URL; with a declared size its exact length is signed, so S3 refuses more. */
export function signPart(core: Core, upload: UploadToken, partNumber: number) {
  return core.at(upload.bucket).uploadSigner.uploadPart(partToSign(upload, partLimit(upload), partNumber), upload.expiresIn)
}

/** `POST /sign-parts` */
export async function signParts<Req>(core: Core<Req>, body: unknown, request: Req, mount?: string): Promise<SignPartsResponse> {
  const input = asObject(body)
  const { upload } = await resumeUpload(core, 'upload', input.token, request, mount)
  uploadIdOf(upload)
  const listed = input.partNumbers
  if (!Array.isArray(listed) || listed.length === 0 || listed.length > MAX_PARTS) {
    throw badRequest(`\`partNumbers\` must be a list of 1 to ${MAX_PARTS} part numbers.`)
  }
  // Each part once, and a bounded batch: a request costs at most MAX_SIGN_BATCH signatures.
  const numbers = [...new Set(listed)]
  if (numbers.length > MAX_SIGN_BATCH) {
    throw badRequest(`Sign at most ${MAX_SIGN_BATCH} parts per request; ask again for the rest.`)
  }
  const checksums = input.checksums === undefined ? undefined : asObject(input.checksums)
  const limit = partLimit(upload)
  // Each entry is checked to be a part number before it names a checksum: `String()` of an
  // object from the JSON (`{"toString": 1}`, arrays nested deep) would throw a TypeError or a
  // RangeError, a 500 instead of this 400.
  const inputs = numbers.map((n) => {
    const part = partToSign(upload, limit, n)
    if (checksums) {
      const checksum = asChecksum(checksums[String(part.partNumber)], `checksums.${part.partNumber}`)
      if (checksum !== undefined) part.checksum = checksum
    }
    return part
  })
  const signing = core.at(upload.bucket).uploadSigner.uploadParts(inputs, upload.expiresIn)
  const signed = isPromiseLike(signing) ? await signing : signing
  return { parts: signed.map(({ url, headers }, i) => ({ partNumber: inputs[i]!.partNumber, url, headers })) }
}

/** Every part S3 holds for the upload; 404 when the upload is gone. */
export async function partsOnS3(core: Core, upload: UploadToken): Promise<StoredPart[] | 'unsupported'> {
  const parts = await core.at(upload.bucket).storage.listParts(upload.key, uploadIdOf(upload))
  if (parts === undefined) throw new PresignError('upload_not_found', 'This upload no longer exists on storage (completed or aborted).')
  return parts
}

/** `POST /list-parts` */
export async function listParts<Req>(core: Core<Req>, body: unknown, request: Req, mount?: string): Promise<ListPartsResponse> {
  const { upload } = await resumeUpload(core, 'upload', asObject(body).token, request, mount)
  const parts = await partsOnS3(core, upload)
  if (parts === 'unsupported') throw new PresignError('storage_error', 'This storage service cannot list the parts of an upload.')
  return { parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, size: p.size })) }
}
