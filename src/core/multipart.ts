import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  type Part,
} from '@aws-sdk/client-s3'
import type { ListPartsResponse, SignPartsResponse } from '../wire'
import { NONCE_METADATA, asChecksum, asObject, bad, formatBytes } from './_input'
import { partCountFor, partLength } from './_parts'
import { type Context, notFound, resume } from './context'
import { PresignError, isPresignError } from './errors'
import { MAX_PARTS, MIN_PART_SIZE } from './options'
import { s3Code, s3Status } from './s3'
import type { PartToSign } from './sign'
import type { UploadClaims } from './token'

export function alreadyExists() {
  return new PresignError('already_exists', 'A file already exists at this key; it was not replaced.')
}

function multipartOf(claims: UploadClaims): string {
  if (!claims.u) throw bad('This is not a multipart upload.')
  return claims.u
}

/** The highest part number this upload may sign: S3 itself then refuses any other. */
function partLimit(ctx: Context, claims: UploadClaims): number {
  if (claims.s >= 0 && claims.p) return partCountFor(claims.s, claims.p)
  return Math.min(MAX_PARTS, Math.max(1, Math.ceil(ctx.o.maxFileSize / MIN_PART_SIZE)))
}

/** Signs one part URL. With a declared size its exact length is signed, so S3 refuses more. */
/** Part `partNumber` to sign, after checking it is one this upload may have. */
function partToSign(claims: UploadClaims, limit: number, partNumber: unknown, checksum?: string): PartToSign {
  const uploadId = multipartOf(claims)
  if (typeof partNumber !== 'number' || !Number.isInteger(partNumber) || partNumber < 1 || partNumber > limit) {
    throw bad(`Part numbers run from 1 to ${limit} for this upload.`)
  }
  const size = claims.s >= 0 && claims.p ? partLength(partNumber, claims.s, claims.p) : undefined
  return { key: claims.k, uploadId, partNumber, ...(size === undefined ? {} : { size }), ...(checksum ? { checksum } : {}) }
}

/** One part URL; with a declared size its exact length is signed, so S3 refuses more. */
export function signPart(ctx: Context, claims: UploadClaims, partNumber: number) {
  return ctx.signer.uploadPart(partToSign(claims, partLimit(ctx, claims), partNumber), ctx.o.expiresIn)
}

export async function signParts<Req>(ctx: Context<Req>, body: unknown, request: Req): Promise<SignPartsResponse> {
  const input = asObject(body)
  const { claims } = await resume(ctx, 'upload', input.token, request)
  multipartOf(claims)
  const numbers = input.partNumbers
  if (!Array.isArray(numbers) || numbers.length === 0 || numbers.length > MAX_PARTS) {
    throw bad(`\`partNumbers\` must be a list of 1 to ${MAX_PARTS} part numbers.`)
  }
  const checksums = input.checksums === undefined ? {} : asObject(input.checksums)
  const limit = partLimit(ctx, claims)
  const inputs = numbers.map((n) => partToSign(claims, limit, n, asChecksum(checksums[String(n)], `checksums.${String(n)}`)))
  const signed = await ctx.signer.uploadParts(inputs, ctx.o.expiresIn)
  return { parts: signed.map(({ url, headers }, i) => ({ partNumber: inputs[i]!.partNumber, url, headers })) }
}

/** Every part S3 holds for the upload, following ListParts pages. */
export async function partsOnS3(ctx: Context, claims: UploadClaims): Promise<Part[]> {
  const uploadId = multipartOf(claims)
  const parts: Part[] = []
  let marker: string | undefined
  do {
    const page = await ctx.s3((client, options) =>
      client.send(new ListPartsCommand({ Bucket: ctx.o.bucket, Key: claims.k, UploadId: uploadId, PartNumberMarker: marker }), options),
    ).catch((error: unknown) => {
      // RGW says NoSuchKey where AWS says NoSuchUpload.
      if (notFound(error)) throw new PresignError('upload_not_found', 'This upload no longer exists on storage (completed or aborted).')
      throw error
    })
    parts.push(...(page.Parts ?? []))
    marker = page.IsTruncated ? page.NextPartNumberMarker : undefined
  } while (marker)
  return parts
}

export async function listParts<Req>(ctx: Context<Req>, body: unknown, request: Req): Promise<ListPartsResponse> {
  const { claims } = await resume(ctx, 'upload', asObject(body).token, request)
  const parts = await partsOnS3(ctx, claims)
  return { parts: parts.map((p) => ({ partNumber: p.PartNumber ?? 0, etag: p.ETag ?? '', size: p.Size ?? 0 })) }
}

export async function abortUpload(ctx: Context, claims: UploadClaims) {
  await ctx.s3((client, options) =>
    client.send(new AbortMultipartUploadCommand({ Bucket: ctx.o.bucket, Key: claims.k, UploadId: claims.u }), options),
  ).catch((error: unknown) => {
    if (!notFound(error)) throw error // already gone: aborting is idempotent
  })
}

/**
 * Finishes a multipart upload after checking, from what S3 itself reports, that every part
 * is there and that the whole is no larger than declared and than `maxFileSize`; an upload
 * that is too large is aborted. Returns the object's size.
 */
export async function finishMultipart(ctx: Context, claims: UploadClaims, clientParts?: unknown): Promise<number> {
  let parts: Part[]
  try {
    parts = await partsOnS3(ctx, claims)
  } catch (error) {
    // Already completed (a retried complete): the object, if it is ours, is verified below.
    if (isPresignError(error) && error.code === 'upload_not_found') return claims.s
    // A store without ListParts (s3rver, the demo store): complete from the client's list; the
    // size is then checked on the finished object instead (verifyObject removes it if over).
    if (isPresignError(error) && [405, 501].includes(s3Status(error.cause) ?? 0)) {
      if (!ctx.o.overwrite) await refuseExisting(ctx, claims)
      await completeOnS3(ctx, claims, listedByClient(clientParts))
      return claims.s
    }
    throw error
  }
  parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0))
  const total = parts.reduce((sum, p) => sum + (p.Size ?? 0), 0)
  const limit = claims.s >= 0 ? Math.min(claims.s, ctx.o.maxFileSize) : ctx.o.maxFileSize
  if (total > limit) {
    await abortUpload(ctx, claims)
    throw new PresignError('file_too_large', `The uploaded parts add up to ${formatBytes(total)}, over the limit of ${formatBytes(limit)}; the upload was aborted.`)
  }
  const expected = claims.s >= 0 && claims.p ? partCountFor(claims.s, claims.p) : parts.length
  const missing = parts.length === 0 || parts.length !== expected || parts.some((p, i) => p.PartNumber !== i + 1)
  if (missing || (claims.s >= 0 && total !== claims.s)) {
    throw new PresignError('verification_failed', `Storage holds ${parts.length} of ${expected} parts (${formatBytes(total)}); upload the missing parts, then complete again.`)
  }
  if (!ctx.o.overwrite) await refuseExisting(ctx, claims)
  await completeOnS3(ctx, claims, parts)
  return total
}

async function completeOnS3(ctx: Context, claims: UploadClaims, parts: Part[]) {
  try {
    await ctx.s3((client, options) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: ctx.o.bucket,
          Key: claims.k,
          UploadId: claims.u,
          MultipartUpload: {
            Parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag, ...(p.ChecksumSHA256 ? { ChecksumSHA256: p.ChecksumSHA256 } : {}) })),
          },
          ...(ctx.o.overwrite ? {} : { IfNoneMatch: '*' }),
        }),
        options,
      ),
    )
  } catch (error) {
    if (isPresignError(error) && s3Code(error.cause) === 'PreconditionFailed') {
      await abortUpload(ctx, claims)
      throw alreadyExists()
    }
    throw error
  }
}

/** The `parts` a client sent to complete (`{ partNumber, etag }`, or Uppy's `{ PartNumber, ETag }`). */
function listedByClient(parts: unknown): Part[] {
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PARTS) {
    throw bad('This storage cannot list parts: send `parts` ([{ partNumber, etag }]) with complete.')
  }
  return parts
    .map((p) => {
      const part = asObject(p)
      const PartNumber = part.partNumber ?? part.PartNumber
      const ETag = part.etag ?? part.ETag
      if (typeof PartNumber !== 'number' || !Number.isInteger(PartNumber) || PartNumber < 1 || typeof ETag !== 'string') {
        throw bad('Each part needs a whole `partNumber` and an `etag`.')
      }
      return { PartNumber, ETag }
    })
    .sort((a, b) => a.PartNumber - b.PartNumber)
}

/**
 * Stores that ignore `If-None-Match` on CompleteMultipartUpload would replace an object:
 * look first. (A writer racing between this HEAD and the completion is not caught on such a
 * store; AWS enforces the condition itself.)
 */
async function refuseExisting(ctx: Context, claims: UploadClaims) {
  const head = await ctx.s3((client, options) => client.send(new HeadObjectCommand({ Bucket: ctx.o.bucket, Key: claims.k }), options)).catch(
    (error: unknown) => {
      if (notFound(error)) return undefined
      throw error
    },
  )
  if (head && head.Metadata?.[NONCE_METADATA] !== claims.n) {
    await abortUpload(ctx, claims)
    throw alreadyExists()
  }
}

/**
 * Checks that the object at the token's key is this upload's, of the declared size, type
 * and checksum. A mismatching object that this upload wrote is deleted; one it did not
 * write (e.g. the object an overwrite was refused for) is never touched.
 */
