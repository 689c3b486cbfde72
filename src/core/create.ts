import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3'
import type { CreateResponse } from '../wire'
import { NONCE_METADATA, asChecksum, asContentType, asMetadata, asObject, asSize, asString, formatBytes } from './_input'
import { partCountFor, partSizeFor } from './_parts'
import { type Context, begin, expiresAt } from './context'
import { PresignError } from './errors'
import { type FileInfo, type Identity, MAX_SINGLE_SIZE } from './options'
import type { UploadClaims } from './token'

/** `POST /create`: a signed single PUT, or a multipart upload above the threshold. */
export async function create<Req>(ctx: Context<Req>, body: unknown, request: Req): Promise<CreateResponse> {
  const { o } = ctx
  const input = asObject(body)
  const file: FileInfo = {
    filename: asString(input.filename, 'filename'),
    contentType: asContentType(input.contentType),
    size: asSize(input.size),
    metadata: asMetadata(input.metadata),
  }
  const checksum = asChecksum(input.checksum)

  if (file.size > o.multipartThreshold && file.size > 0) {
    const { claims, token } = await startMultipart(ctx, file, request, checksum)
    return {
      strategy: 'multipart',
      token,
      key: claims.k,
      partSize: claims.p!,
      partCount: partCountFor(file.size, claims.p!),
      expiresAt: new Date(claims.e * 1000).toISOString(),
    }
  }

  const { claims: base } = await begin(ctx, file, request)
  const singleLimit = Math.min(o.maxFileSize, MAX_SINGLE_SIZE)
  if (file.size > singleLimit) {
    throw new PresignError('file_too_large', `This file is ${formatBytes(file.size)}; the limit is ${formatBytes(singleLimit)}.`)
  }
  const claims: UploadClaims = { ...base, ...(checksum ? { c: checksum } : {}) }
  const { k: key, n: nonce } = claims
  const { url, headers } = await ctx.signer.putObject(
    {
      key,
      contentType: file.contentType,
      size: file.size,
      ifNoneMatch: !o.overwrite,
      metadata: { ...file.metadata, [NONCE_METADATA]: nonce },
      ...(checksum ? { checksum } : {}),
    },
    o.expiresIn,
  )
  return { strategy: 'single', token: ctx.tokens.seal(claims), key, method: 'PUT', url, headers, expiresAt: expiresAt(o.expiresIn) }
}

/** Starts a multipart upload on S3. `file.size` is -1 when the client does not declare it (Uppy). */
export async function startMultipart<Req>(ctx: Context<Req>, file: FileInfo, request: Req, checksum?: string) {
  const { o } = ctx
  const { claims: base } = await begin(ctx, file, request)
  const { k: key, n: nonce } = base
  const created = await ctx.s3((client, options) =>
    client.send(
      new CreateMultipartUploadCommand({
        Bucket: o.bucket,
        Key: key,
        ContentType: file.contentType,
        Metadata: { ...file.metadata, [NONCE_METADATA]: nonce },
        ...(checksum ? { ChecksumAlgorithm: 'SHA256' } : {}),
      }),
      options,
    ),
  )
  if (!created.UploadId) throw new PresignError('storage_error', 'The storage service did not start the upload.')
  const partSize = file.size >= 0 ? partSizeFor(file.size, o.partSize) : undefined
  const claims: UploadClaims = { ...base, u: created.UploadId, ...(partSize ? { p: partSize } : {}), ...(checksum ? { c: checksum } : {}) }
  return { claims, token: ctx.tokens.seal(claims) }
}
