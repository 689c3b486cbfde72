import { GetObjectCommand, PutObjectCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import {
  type Operation,
  type PartToSign,
  type PostToSign,
  type PutToSign,
  getObject,
  postFields,
  putObject,
  signedHeaders,
  uploadPart,
} from './operations'
import { commandInputOf } from '../object-settings'
import type { Signer } from './signer'

/**
 * The `Signer` over the AWS SDK (`getSignedUrl`, `createPresignedPost`): the oracle the
 * differential tests hold the query signer to, and the signer of POST policies. Every header we
 * send is signed and kept a header (not hoisted into the query), so S3 refuses a request whose
 * length, type or condition differs.
 */
export function createSdkSigner(bucket: string, client: S3Client): Signer {
  function presign(command: PutObjectCommand | UploadPartCommand | GetObjectCommand, op: Operation, expiresIn: number, signingDate?: Date) {
    const names = Object.keys(signedHeaders(op))
    // getSignedUrl's command type is one command's input and output: a union does not fit it.
    return getSignedUrl(client, command as Parameters<typeof getSignedUrl>[1], {
      expiresIn,
      ...(signingDate ? { signingDate } : {}),
      ...(names.length > 0
        ? { signableHeaders: new Set(names), unhoistableHeaders: new Set(names.filter((h) => h.startsWith('x-amz-'))) }
        : {}),
    })
  }

  return {
    async postObject(input: PostToSign, expiresIn) {
      const { url, fields } = await createPresignedPost(client, {
        Bucket: bucket,
        Key: input.key,
        Expires: expiresIn,
        // createPresignedPost puts every field (and the key) into the policy as an exact match.
        Fields: postFields(input),
        Conditions: [['content-length-range', 0, input.maxSize]],
      })
      return { url: url.endsWith('/') ? url : `${url}/`, fields }
    },

    async putObject(input: PutToSign, expiresIn, signingDate) {
      const op = putObject(input)
      const command = new PutObjectCommand({
        Bucket: bucket,
        Key: input.key,
        ContentType: input.contentType,
        ContentLength: input.size,
        ...(input.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
        Metadata: input.metadata,
        ...(input.checksum ? { ChecksumSHA256: input.checksum } : {}),
        ...commandInputOf(input.settings),
      })
      return { url: await presign(command, op, expiresIn, signingDate), headers: op.headers }
    },

    async uploadPart(input: PartToSign, expiresIn, signingDate) {
      const op = uploadPart(input)
      const command = new UploadPartCommand({
        Bucket: bucket,
        Key: input.key,
        UploadId: input.uploadId,
        PartNumber: input.partNumber,
        ...(input.size === undefined ? {} : { ContentLength: input.size }),
        ...(input.checksum ? { ChecksumSHA256: input.checksum } : {}),
      })
      return { url: await presign(command, op, expiresIn, signingDate), headers: op.headers }
    },

    uploadParts(inputs, expiresIn, signingDate) {
      return Promise.all(inputs.map((input) => this.uploadPart(input, expiresIn, signingDate)))
    },

    getObject(input, expiresIn, signingDate) {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: input.key,
        ...(input.disposition ? { ResponseContentDisposition: input.disposition } : {}),
      })
      return presign(command, getObject(input), expiresIn, signingDate)
    },

    async objectUrl(key) {
      return (await this.getObject({ key }, 60)).split('?')[0]!
    },
  }
}
