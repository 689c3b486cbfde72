import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import { beforeEach, describe, expect, it } from 'vitest'
import { partCountFor, partLength, partSizeFor } from '../../src/core/limits'
import { createPresigner } from '../../src/core/presigner'
import type { PresignOptions } from '../../src/core/options'

const MiB = 1024 ** 2
const GiB = 1024 ** 3
const TiB = 1024 ** 4

describe('part sizing', () => {
  it.each([
    ['1 MiB', MiB, 5 * MiB, 1],
    ['1 GiB', GiB, 5 * MiB, 205],
    ['100 GiB', 100 * GiB, 11 * MiB, 9310],
    ['10 TiB', 10 * TiB, 1049 * MiB, 9996],
    ['48.8 TiB (S3 maximum)', 10_000 * 5 * GiB, 5 * GiB, 10_000],
  ])('%s: parts of %i bytes, %i parts', (_name, size, partSize, count) => {
    expect(partSizeFor(size, undefined)).toBe(partSize)
    expect(partCountFor(size, partSize)).toBe(count)
  })

  it('never needs more than 10,000 parts, never goes under 5 MiB or over 5 GiB', () => {
    for (const size of [1, 5 * MiB, 5 * MiB + 1, 50 * GiB, 999 * GiB + 7, 5 * TiB, 10_000 * 5 * GiB]) {
      const partSize = partSizeFor(size, 8 * MiB)
      expect(partCountFor(size, partSize)).toBeLessThanOrEqual(10_000)
      expect(partSize).toBeGreaterThanOrEqual(5 * MiB)
      expect(partSize).toBeLessThanOrEqual(5 * GiB)
    }
  })

  it('gives every part but the last exactly partSize, and the parts add up', () => {
    const size = 3 * 5 * MiB + 123
    const lengths = [1, 2, 3, 4].map((n) => partLength(n, size, 5 * MiB))
    expect(lengths).toEqual([5 * MiB, 5 * MiB, 5 * MiB, 123])
    expect(lengths.reduce((a, b) => a + b)).toBe(size)
  })
})

const s3mock = mockClient(S3Client)
beforeEach(() => {
  s3mock.reset()
  s3mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' })
})

const options: PresignOptions<string> = {
  bucket: 'mp-bucket',
  region: 'us-east-1',
  s3: { credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' } },
  secret: 'multipart-secret-0123456789',
  authorize: ({ request }) => ({ id: request }),
  multipart: { threshold: 10 * MiB },
  maxFileSize: 100 * MiB,
}

async function started(size = 12 * MiB) {
  const presigner = createPresigner(options)
  const res = await presigner.create({ filename: 'big.bin', contentType: 'application/octet-stream', size }, 'alice')
  if (res.strategy !== 'multipart') throw new Error('expected multipart')
  return { presigner, res }
}

describe('multipart uploads', () => {
  it('create above the threshold starts a multipart upload with the nonce in its metadata', async () => {
    const { res } = await started()
    expect(res).toMatchObject({ strategy: 'multipart', partSize: 5 * MiB, partCount: 3 })
    const input = s3mock.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input
    expect(input.Metadata?.['presign-nonce']).toMatch(/^[\w-]{40,}$/)
    expect(input.ContentType).toBe('application/octet-stream')
  })

  it('sign-parts signs the exact length of each part', async () => {
    const { presigner, res } = await started(12 * MiB)
    const { parts } = await presigner.signParts({ token: res.token, partNumbers: [1, 3] }, 'alice')
    const signed = parts.map((p) => new URL(p.url))
    expect(signed.map((u) => u.searchParams.get('partNumber'))).toEqual(['1', '3'])
    expect(signed.every((u) => u.searchParams.get('X-Amz-SignedHeaders') === 'content-length;host')).toBe(true)
    expect(signed.every((u) => u.searchParams.get('uploadId') === 'upload-1')).toBe(true)
  })

  it.each([[[0]], [[4]], [[1.5]], [['1']], [[]]])('sign-parts refuses the part numbers %j', async (partNumbers) => {
    const { presigner, res } = await started()
    await expect(presigner.signParts({ token: res.token, partNumbers }, 'alice')).rejects.toMatchObject({ status: 400 })
  })

  it('sign-parts refuses another identity', async () => {
    const { presigner, res } = await started()
    await expect(presigner.signParts({ token: res.token, partNumbers: [1] }, 'mallory')).rejects.toMatchObject({
      code: 'identity_mismatch',
    })
  })

  it('complete refuses and aborts an upload whose parts add up to more than declared', async () => {
    const { presigner, res } = await started(12 * MiB)
    s3mock.on(ListPartsCommand).resolves({ Parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: `"${n}"`, Size: 5 * MiB })) })
    await expect(presigner.complete({ token: res.token }, 'alice')).rejects.toMatchObject({ code: 'file_too_large', status: 413 })
    expect(s3mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1)
    expect(s3mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0)
  })

  it('complete answers 422 and keeps the upload when a part is missing', async () => {
    const { presigner, res } = await started(12 * MiB)
    s3mock
      .on(ListPartsCommand)
      .resolves({ Parts: [1, 3].map((n) => ({ PartNumber: n, ETag: `"${n}"`, Size: n === 3 ? 2 * MiB : 5 * MiB })) })
    await expect(presigner.complete({ token: res.token }, 'alice')).rejects.toMatchObject({ code: 'verification_failed' })
    expect(s3mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0)
  })

  it('complete follows ListParts pages, completes with If-None-Match and verifies the object', async () => {
    const { presigner, res } = await started(12 * MiB)
    s3mock
      .on(ListPartsCommand)
      .resolvesOnce({ Parts: [{ PartNumber: 1, ETag: '"1"', Size: 5 * MiB }], IsTruncated: true, NextPartNumberMarker: '1' })
      .resolvesOnce({ Parts: [2, 3].map((n) => ({ PartNumber: n, ETag: `"${n}"`, Size: n === 3 ? 2 * MiB : 5 * MiB })) })
    const nonce = s3mock.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input.Metadata!['presign-nonce']!
    s3mock
      .on(HeadObjectCommand)
      .rejectsOnce(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }))
      .resolves({ ContentLength: 12 * MiB, ContentType: 'application/octet-stream', ETag: '"x-3"', Metadata: { 'presign-nonce': nonce } })
    s3mock.on(CompleteMultipartUploadCommand).resolves({})
    const done = await presigner.complete({ token: res.token }, 'alice')
    expect(done).toMatchObject({ size: 12 * MiB, etag: '"x-3"' })
    const input = s3mock.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input
    expect(input.IfNoneMatch).toBe('*')
    expect(input.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3])
  })

  it('complete refuses (412) and aborts when another object already holds the key', async () => {
    const { presigner, res } = await started(12 * MiB)
    s3mock
      .on(ListPartsCommand)
      .resolves({ Parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: `"${n}"`, Size: n === 3 ? 2 * MiB : 5 * MiB })) })
    s3mock.on(HeadObjectCommand).resolves({ ContentLength: 1, Metadata: {} })
    await expect(presigner.complete({ token: res.token }, 'alice')).rejects.toMatchObject({ code: 'already_exists', status: 412 })
    expect(s3mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1)
  })

  it("completes from the client's part list on a store without ListParts, then checks the object", async () => {
    const { presigner, res } = await started(12 * MiB)
    s3mock
      .on(ListPartsCommand)
      .rejects(Object.assign(new Error('MethodNotAllowed'), { name: 'MethodNotAllowed', $metadata: { httpStatusCode: 405 } }))
    const nonce = s3mock.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input.Metadata!['presign-nonce']!
    s3mock
      .on(HeadObjectCommand)
      .rejectsOnce(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }))
      .resolves({ ContentLength: 12 * MiB, ContentType: 'application/octet-stream', ETag: '"x-3"', Metadata: { 'presign-nonce': nonce } })
    s3mock.on(CompleteMultipartUploadCommand).resolves({})
    await expect(presigner.complete({ token: res.token }, 'alice')).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/send `parts`/),
    })
    const parts = [3, 1, 2].map((n) => ({ partNumber: n, etag: `"${n}"` }))
    expect(await presigner.complete({ token: res.token, parts }, 'alice')).toMatchObject({ size: 12 * MiB })
    const input = s3mock.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input
    expect(input.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3])
  })

  it('removes the object when, without ListParts, the finished object turns out larger than declared', async () => {
    const { presigner, res } = await started(12 * MiB)
    s3mock
      .on(ListPartsCommand)
      .rejects(Object.assign(new Error('NotImplemented'), { name: 'NotImplemented', $metadata: { httpStatusCode: 501 } }))
    const nonce = s3mock.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input.Metadata!['presign-nonce']!
    s3mock
      .on(HeadObjectCommand)
      .rejectsOnce(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }))
      .resolves({ ContentLength: 13 * MiB, ContentType: 'application/octet-stream', Metadata: { 'presign-nonce': nonce } })
    s3mock.on(CompleteMultipartUploadCommand).resolves({})
    await expect(presigner.complete({ token: res.token, parts: [{ partNumber: 1, etag: '"1"' }] }, 'alice')).rejects.toMatchObject({
      code: 'verification_failed',
    })
    expect(s3mock.commandCalls(DeleteObjectCommand)).toHaveLength(1)
  })

  it('abort is idempotent: an upload already gone is fine', async () => {
    const { presigner, res } = await started()
    s3mock
      .on(AbortMultipartUploadCommand)
      .rejects(Object.assign(new Error('NoSuchUpload'), { name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } }))
    await expect(presigner.abort({ token: res.token }, 'alice')).resolves.toEqual({})
  })
})
