import { DeleteObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput } from '@aws-sdk/client-s3'
import type { CompleteResponse } from '../wire'
import { NONCE_METADATA, asObject } from './_input'
import { type Context, notFound, resume } from './context'
import { PresignError } from './errors'
import { abortUpload, finishMultipart } from './multipart'
import type { Identity } from './options'
import type { UploadClaims } from './token'

/** HeadObject, or undefined when there is no such object. */
export async function headObject(ctx: Context, key: string): Promise<HeadObjectCommandOutput | undefined> {
  return ctx
    .s3((client, options) => client.send(new HeadObjectCommand({ Bucket: ctx.o.bucket, Key: key }), options))
    .catch((error: unknown) => {
      if (notFound(error)) return undefined
      throw error
    })
}

export async function deleteObject(ctx: Context, key: string): Promise<void> {
  await ctx.s3((client, options) => client.send(new DeleteObjectCommand({ Bucket: ctx.o.bucket, Key: key }), options))
}

/**
 * Checks that the object at the token's key is this upload's (its sealed tag), of the declared
 * size, type and checksum. A mismatching object that this upload wrote is deleted; one it did
 * not write (e.g. the object an overwrite was refused for) is never touched.
 * `size` is undefined when the client never declared it (Uppy's multipart).
 */
async function verifyObject(ctx: Context, claims: UploadClaims, size: number | undefined): Promise<HeadObjectCommandOutput> {
  const checksum = claims.c && !claims.u ? claims.c : undefined
  const head = await ctx
    .s3((client, options) =>
      client.send(new HeadObjectCommand({ Bucket: ctx.o.bucket, Key: claims.k, ...(checksum ? { ChecksumMode: 'ENABLED' } : {}) }), options),
    )
    .catch((error: unknown) => {
      if (notFound(error)) throw new PresignError('verification_failed', 'The file has not been uploaded to storage.')
      throw error
    })
  if (head.Metadata?.[NONCE_METADATA] !== claims.n) {
    throw new PresignError('verification_failed', 'The object at this key was not written by this upload.')
  }
  const problem =
    (head.ContentLength ?? 0) > ctx.o.maxFileSize
      ? `The uploaded file is ${head.ContentLength} bytes, over the limit of ${ctx.o.maxFileSize}.`
      : size !== undefined && head.ContentLength !== size
      ? `The uploaded file is ${head.ContentLength ?? 0} bytes, not the ${size} bytes declared.`
      : head.ContentType !== claims.t
        ? `The uploaded file's type is ${head.ContentType ?? 'missing'}, not the declared ${claims.t}.`
        : checksum && head.ChecksumSHA256 && head.ChecksumSHA256 !== checksum
          ? "The uploaded file's checksum does not match the declared one."
          : undefined
  if (problem) {
    await deleteObject(ctx, claims.k)
    throw new PresignError('verification_failed', `${problem} It was removed.`)
  }
  return head
}

/** Finishes and verifies an upload whose token was opened and checked, then runs `onComplete`. */
export async function completeUpload<Req, Result>(
  ctx: Context<Req, any, Result>,
  claims: UploadClaims,
  identity: Identity | true,
  request: Req,
  clientParts?: unknown,
): Promise<CompleteResponse<Result>> {
  const size = claims.u ? await finishMultipart(ctx, claims, clientParts) : claims.s
  const head = await verifyObject(ctx, claims, size >= 0 ? size : undefined)
  const { [NONCE_METADATA]: _tag, ...metadata } = head.Metadata ?? {}
  const etag = head.ETag ?? ''
  const verifiedSize = head.ContentLength ?? size
  const result = ctx.o.onComplete
    ? await ctx.o.onComplete({ request, identity, key: claims.k, size: verifiedSize, contentType: claims.t, etag, metadata, source: 'complete' })
    : undefined
  return { key: claims.k, size: verifiedSize, contentType: claims.t, etag, result: (result ?? null) as Result }
}

/** `POST /complete` */
export async function complete<Req, Result>(ctx: Context<Req, any, Result>, body: unknown, request: Req) {
  const input = asObject(body)
  const { claims, identity } = await resume(ctx, 'complete', input.token, request)
  return completeUpload(ctx, claims, identity, request, input.parts)
}

/** `POST /abort`: cancels a multipart upload (idempotent); a single upload has nothing to cancel. */
export async function abort<Req>(ctx: Context<Req>, body: unknown, request: Req): Promise<Record<string, never>> {
  const { claims } = await resume(ctx, 'abort', asObject(body).token, request)
  if (claims.u) await abortUpload(ctx, claims)
  return {}
}
