import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandInput,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListPartsCommand,
  type Part,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { mockClient } from 'aws-sdk-client-mock'
import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { PresignOptions } from '../../src/core/options'
import { listen, targets } from '../helpers/targets'

/**
 * The multipart half of the contract every adapter keeps: the native multipart routes (SPEC §4.1)
 * and the six routes of the unmodified `@uppy/aws-s3` client (SPEC §4.2), run through every target
 * of `targets` with S3 mocked. The mock behaves like a store: the finished object carries the
 * metadata its CreateMultipartUpload was given, and is as large as the parts S3 holds. The real
 * thing is proven in test/rgw/guarantees.test.ts.
 */

const MiB = 1024 * 1024
const s3mock = mockClient(S3Client)

const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }
const endpoint = 'http://127.0.0.1:1'
const bucket = 'contract-bucket'
/** An RGW-style upload id, with characters a URL query must carry intact. */
const UPLOAD_ID = '2~Upl0ad.Id_-+/='

const onComplete = vi.fn(({ key, size }: { key: string; size: number }) => ({ stored: key, size }))

const base: PresignOptions<any, any, any> = {
  bucket,
  region: 'us-east-1',
  s3: { credentials, endpoint, forcePathStyle: true },
  secret: 'contract-secret-0123456789',
  authorize: () => ({ id: 'alice' }),
  onComplete,
  multipart: { threshold: 10 * MiB },
  maxFileSize: 100 * MiB,
}

/** 12 MiB + 123 bytes: parts of 5 MiB, 5 MiB and 2 MiB + 123. */
const big = { filename: 'big.bin', contentType: 'application/octet-stream', size: 12 * MiB + 123 }
const lengths = [5 * MiB, 5 * MiB, 2 * MiB + 123]

/** The parts S3 holds for the upload (what ListParts answers). */
let held: Part[] = []
const holdParts = (sizes: Array<[partNumber: number, size: number]>) => {
  held = sizes.map(([n, size]) => ({ PartNumber: n, ETag: `"etag-${n}"`, Size: size }))
}
/** The object a successful CompleteMultipartUpload left at the key. */
let finished: HeadObjectCommandOutput | undefined

const notFound = () => Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } })

beforeEach(() => {
  s3mock.reset()
  onComplete.mockClear()
  held = []
  finished = undefined
  s3mock.on(CreateMultipartUploadCommand).resolves({ UploadId: UPLOAD_ID })
  s3mock.on(ListPartsCommand).callsFake(async () => ({ Parts: held, IsTruncated: false }))
  s3mock.on(CompleteMultipartUploadCommand).callsFake(async (input: CompleteMultipartUploadCommandInput) => {
    const started = createdWith()
    finished = {
      $metadata: {},
      ContentLength: held.reduce((sum, p) => sum + (p.Size ?? 0), 0),
      ContentType: started.ContentType,
      ETag: `"multipart-${held.length}"`,
      Metadata: started.Metadata,
    }
    return { Bucket: input.Bucket, Key: input.Key, ETag: '' }
  })
  s3mock.on(HeadObjectCommand).callsFake(async () => {
    if (!finished) throw notFound()
    return finished
  })
  s3mock.on(AbortMultipartUploadCommand).resolves({})
})

/** What the upload was started on S3 with. */
function createdWith(): CreateMultipartUploadCommandInput {
  const calls = s3mock.commandCalls(CreateMultipartUploadCommand)
  expect(calls).toHaveLength(1)
  return calls[0]!.args[0].input
}

/** The S3 calls that change an upload: none may happen after a refusal of the caller. */
function writesToS3() {
  return [ListPartsCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand].flatMap((command) => s3mock.commandCalls(command))
}

/**
 * The token with one character changed, without knowing its layout: a character followed by
 * another URL-safe one, so the change is never lost to base64's unused trailing bits.
 */
function tampered(token: string): string {
  const safe = /[A-Za-z0-9_-]/
  let i = Math.floor(token.length / 2)
  while (i < token.length - 1 && !(safe.test(token[i]!) && safe.test(token[i + 1]!))) i++
  if (i >= token.length - 1) throw new Error('no character to change')
  return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`
}

/** The same URL signed by the SDK (`getSignedUrl`) at the same instant: the signature oracle. */
const oracle = new S3Client({
  region: 'us-east-1',
  credentials,
  endpoint,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
})

/** Whether the part URL's signature is the one S3 computes for a PUT of exactly `length` bytes (or of no fixed length). */
async function signedFor(url: URL, length: number | undefined): Promise<boolean> {
  const date = url.searchParams.get('X-Amz-Date')!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z')
  const expected = await getSignedUrl(
    oracle,
    new UploadPartCommand({
      Bucket: bucket,
      Key: decodeURIComponent(url.pathname.slice(`/${bucket}/`.length)),
      UploadId: url.searchParams.get('uploadId')!,
      PartNumber: Number(url.searchParams.get('partNumber')),
      ...(length === undefined ? {} : { ContentLength: length }),
    }),
    {
      expiresIn: Number(url.searchParams.get('X-Amz-Expires')),
      signingDate: new Date(date),
      ...(length === undefined ? {} : { signableHeaders: new Set(['content-length']) }),
    },
  )
  return new URL(expected).searchParams.get('X-Amz-Signature') === url.searchParams.get('X-Amz-Signature')
}

type Options = Partial<PresignOptions<any, any, any>>
const defaults: Options = {}
const asMallory: Options = { authorize: () => ({ id: 'mallory' }) }
const limitedTo8MiB: Options = { maxFileSize: 8 * MiB }
const limitedTo1000: Options = { maxFileSize: 1000 }
const textOnly: Options = { allowedContentTypes: ['text/plain'] }

describe.each(targets)('$name', (target) => {
  // One server per target and set of options, as a host runs it; the uploads' state lives in the S3 mock.
  const servers = new Map<Options, Awaited<ReturnType<typeof listen>>>()
  beforeAll(async () => {
    for (const options of [defaults, asMallory, limitedTo8MiB, limitedTo1000, textOnly]) {
      servers.set(options, await listen(target.build({ ...base, ...options })))
    }
  })
  afterAll(() => Promise.all([...servers.values()].map((server) => server.close())))
  const app = (options: Options = defaults) => request(servers.get(options)!.url)

  describe('native multipart routes (SPEC §4.1)', () => {
    async function started(options: Options = defaults) {
      const res = await app(options)
        .post('/uploads/create')
        .send({ ...big, metadata: { album: 'summer' } })
      expect(res.status).toBe(200)
      return res.body as { token: string; key: string }
    }

    it('POST /create above the threshold starts a multipart upload: { strategy, token, key, partSize, partCount, expiresAt }', async () => {
      const res = await app()
        .post('/uploads/create')
        .send({ ...big, metadata: { album: 'summer' } })
      expect(res.status).toBe(200)
      expect(res.headers['cache-control']).toBe('no-store')
      expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'key', 'partCount', 'partSize', 'strategy', 'token'])
      expect(res.body).toMatchObject({
        strategy: 'multipart',
        key: expect.stringMatching(/^[0-9a-f-]{36}\/big\.bin$/),
        partSize: 5 * MiB,
        partCount: 3,
        token: expect.any(String),
      })
      expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now())
      expect(createdWith()).toMatchObject({
        Bucket: bucket,
        Key: res.body.key,
        ContentType: 'application/octet-stream',
      })
      expect(createdWith().Metadata).toEqual({
        album: 'summer',
        'presign-filename': expect.any(String),
        'presign-nonce': expect.any(String),
      })
    })

    it('POST /create at exactly the threshold stays a single PUT and starts nothing on S3', async () => {
      const res = await app()
        .post('/uploads/create')
        .send({ ...big, size: 10 * MiB })
      expect(res.status).toBe(200)
      expect(res.body.strategy).toBe('single')
      expect(s3mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0)
    })

    it('POST /sign-parts answers { parts: [{ partNumber, url, headers }] }, each URL for that part of that upload and its exact length', async () => {
      const { token, key } = await started()
      const res = await app()
        .post('/uploads/sign-parts')
        .send({ token, partNumbers: [3, 1, 3] })
      expect(res.status).toBe(200)
      expect(res.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([3, 1])
      for (const part of res.body.parts as Array<{ partNumber: number; url: string; headers: Record<string, string> }>) {
        expect(Object.keys(part).sort()).toEqual(['headers', 'partNumber', 'url'])
        // content-length is signed but left to the HTTP client; nothing else is to be sent.
        expect(part.headers).toEqual({})
        const url = new URL(part.url)
        expect(url.origin + url.pathname).toBe(`${endpoint}/${bucket}/${key}`)
        expect(url.searchParams.get('partNumber')).toBe(String(part.partNumber))
        expect(url.searchParams.get('uploadId')).toBe(UPLOAD_ID)
        expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host')
        expect(url.search).not.toMatch(/checksum/i)
        const length = lengths[part.partNumber - 1]!
        expect(await signedFor(url, length)).toBe(true)
        expect(await signedFor(url, length + 1)).toBe(false)
      }
    })

    it.each([
      ['0', [0]],
      ['past partCount', [4]],
      ['negative', [-1]],
      ['fractional', [1.5]],
      ['a string', ['1']],
      ['an empty list', []],
      ['not a list', 1],
    ])('POST /sign-parts refuses part numbers that are %s with 400', async (_name, partNumbers) => {
      const { token } = await started()
      const res = await app().post('/uploads/sign-parts').send({ token, partNumbers })
      expect(res.status).toBe(400)
      expect(res.body).toEqual({ code: 'invalid_request', message: expect.any(String) })
    })

    it('POST /list-parts answers { parts: [{ partNumber, etag, size }] } from what S3 holds', async () => {
      const { token, key } = await started()
      holdParts([
        [1, 5 * MiB],
        [2, 5 * MiB],
      ])
      const res = await app().post('/uploads/list-parts').send({ token })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({
        parts: [
          { partNumber: 1, etag: '"etag-1"', size: 5 * MiB },
          { partNumber: 2, etag: '"etag-2"', size: 5 * MiB },
        ],
      })
      expect(s3mock.commandCalls(ListPartsCommand)[0]!.args[0].input).toMatchObject({ Bucket: bucket, Key: key, UploadId: UPLOAD_ID })
    })

    it('POST /complete with parts completes on S3 with If-None-Match, verifies the object, then answers { key, size, contentType, etag, result }', async () => {
      const { token, key } = await started()
      holdParts([
        [2, lengths[1]!],
        [1, lengths[0]!],
        [3, lengths[2]!],
      ])
      const parts = [1, 2, 3].map((n) => ({ partNumber: n, etag: `"etag-${n}"` }))
      const res = await app().post('/uploads/complete').send({ token, parts })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({
        key,
        size: big.size,
        contentType: 'application/octet-stream',
        etag: '"multipart-3"',
        result: { stored: key, size: big.size },
      })
      const input = s3mock.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input
      expect(input).toMatchObject({ Bucket: bucket, Key: key, UploadId: UPLOAD_ID, IfNoneMatch: '*' })
      expect(input.MultipartUpload?.Parts).toEqual(parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })))
      expect(onComplete).toHaveBeenCalledTimes(1)
    })

    it('POST /abort aborts the upload on S3 and answers {}', async () => {
      const { token, key } = await started()
      const res = await app().post('/uploads/abort').send({ token })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({})
      expect(s3mock.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([
        { Bucket: bucket, Key: key, UploadId: UPLOAD_ID },
      ])
    })

    it('POST /complete refuses (413) and aborts an upload whose parts S3 holds add up to more than declared', async () => {
      const { token } = await started()
      holdParts([
        [1, 5 * MiB],
        [2, 5 * MiB],
        [3, 5 * MiB],
      ])
      const res = await app().post('/uploads/complete').send({ token })
      expect(res.status).toBe(413)
      expect(res.body).toEqual({ code: 'file_too_large', message: expect.stringContaining('aborted') })
      expect(s3mock.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input.UploadId).toBe(UPLOAD_ID)
      expect(s3mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0)
      expect(onComplete).not.toHaveBeenCalled()
    })

    it('POST /complete answers 422 when a part is missing, and keeps the upload for a retry', async () => {
      const { token } = await started()
      holdParts([
        [1, lengths[0]!],
        [3, lengths[2]!],
      ])
      const res = await app().post('/uploads/complete').send({ token })
      expect(res.status).toBe(422)
      expect(res.body).toEqual({ code: 'verification_failed', message: expect.stringContaining('2 of 3 parts') })
      expect(s3mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0)
      expect(s3mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0)
      expect(onComplete).not.toHaveBeenCalled()
    })

    it('POST /complete answers 422 and aborts when S3 refuses the parts (EntityTooSmall)', async () => {
      const { token } = await started()
      holdParts([
        [1, lengths[0]!],
        [2, lengths[1]!],
        [3, lengths[2]!],
      ])
      s3mock.on(CompleteMultipartUploadCommand).rejects(
        Object.assign(new Error('Your proposed upload is smaller than the minimum allowed size'), {
          name: 'EntityTooSmall',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      const res = await app().post('/uploads/complete').send({ token })
      expect(res.status).toBe(422)
      expect(res.body).toEqual({ code: 'verification_failed', message: expect.stringContaining('aborted') })
      expect(res.text).not.toMatch(/minimum allowed size/)
      expect(s3mock.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input.UploadId).toBe(UPLOAD_ID)
      expect(onComplete).not.toHaveBeenCalled()
    })

    const followUps: Array<[string, (token: string) => object]> = [
      ['/sign-parts', (token) => ({ token, partNumbers: [1] })],
      ['/list-parts', (token) => ({ token })],
      ['/complete', (token) => ({ token })],
      ['/abort', (token) => ({ token })],
    ]

    it.each(followUps)("POST %s refuses another identity's token (403 identity_mismatch) and touches nothing on S3", async (path, body) => {
      const { token } = await started()
      const res = await app(asMallory).post(`/uploads${path}`).send(body(token))
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('identity_mismatch')
      expect(writesToS3()).toHaveLength(0)
    })

    it.each(followUps)('POST %s refuses a token with one character changed (403 invalid_token)', async (path, body) => {
      const { token } = await started()
      const res = await app()
        .post(`/uploads${path}`)
        .send(body(tampered(token)))
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('invalid_token')
      expect(writesToS3()).toHaveLength(0)
    })
  })

  describe('Uppy routes (SPEC §4.2)', () => {
    const uppyFile = { filename: 'u.bin', type: 'application/octet-stream', metadata: { name: 'u.bin', caption: 'hi' } }

    async function started(options: Options = defaults) {
      const res = await app(options).post('/uploads/s3/multipart').send(uppyFile)
      expect(res.status).toBe(200)
      const { key, uploadId } = res.body as { key: string; uploadId: string }
      return {
        key,
        uploadId,
        at: (suffix = '', k = key) => `/uploads/s3/multipart/${encodeURIComponent(uploadId)}${suffix}?key=${encodeURIComponent(k)}`,
      }
    }

    it('GET /s3/params answers { method: POST, url, fields, expires } with the size limit and metadata in the policy', async () => {
      const res = await app(limitedTo1000).get('/uploads/s3/params?filename=p.txt&type=text%2Fplain&metadata[caption]=hello')
      expect(res.status).toBe(200)
      expect(Object.keys(res.body).sort()).toEqual(['expires', 'fields', 'method', 'url'])
      expect(res.body).toMatchObject({ method: 'POST', url: `${endpoint}/${bucket}/`, expires: 600 })
      const fields = res.body.fields as Record<string, string>
      expect(fields).toMatchObject({
        key: expect.stringMatching(/^[0-9a-f-]{36}\/p\.txt$/),
        'Content-Type': 'text/plain',
        'x-amz-meta-caption': 'hello',
        'x-amz-meta-presign-nonce': expect.any(String),
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
      })
      // The POST policy is S3's own format: S3 enforces these conditions.
      const policy = JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8'))
      expect(policy.conditions).toContainEqual(['content-length-range', 0, 1000])
      expect(policy.conditions).toContainEqual({ key: fields.key })
    })

    it.each([
      ['no filename', '/uploads/s3/params?type=text%2Fplain', 400, 'invalid_request'],
      ['a type outside allowedContentTypes', '/uploads/s3/params?filename=p.txt&type=text%2Fhtml', 415, 'content_type_not_allowed'],
    ])('GET /s3/params refuses %s (%i)', async (_name, path, status, code) => {
      const res = await app(textOnly).get(path)
      expect(res.status).toBe(status)
      expect(res.body.code).toBe(code)
    })

    it("POST /s3/multipart answers { key, uploadId, bucket } and starts the upload on S3 with the app's metadata, not Uppy's own fields", async () => {
      const res = await app().post('/uploads/s3/multipart').send(uppyFile)
      expect(res.status).toBe(200)
      expect(Object.keys(res.body).sort()).toEqual(['bucket', 'key', 'uploadId'])
      expect(res.body).toMatchObject({ key: expect.stringMatching(/^[0-9a-f-]{36}\/u\.bin$/), uploadId: expect.any(String), bucket })
      expect(createdWith()).toMatchObject({
        Bucket: bucket,
        Key: res.body.key,
        ContentType: 'application/octet-stream',
      })
      expect(createdWith().Metadata).toEqual({ caption: 'hi', 'presign-filename': 'u.bin', 'presign-nonce': expect.any(String) })
    })

    it('GET /s3/multipart/:uploadId/:partNumber answers { url, expires } for that part of that upload', async () => {
      const { key, at } = await started()
      const res = await app().get(at('/7'))
      expect(res.status).toBe(200)
      expect(Object.keys(res.body).sort()).toEqual(['expires', 'url'])
      expect(res.body.expires).toBe(600)
      const url = new URL(res.body.url)
      expect(url.origin + url.pathname).toBe(`${endpoint}/${bucket}/${key}`)
      expect(url.searchParams.get('partNumber')).toBe('7')
      expect(url.searchParams.get('uploadId')).toBe(UPLOAD_ID)
      expect(url.searchParams.get('X-Amz-Expires')).toBe('600')
      // Uppy never declares the file's size: no length is signed; the size is checked at completion.
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host')
      expect(url.search).not.toMatch(/checksum/i)
      expect(await signedFor(url, undefined)).toBe(true)
    })

    it.each(['0', '-1', '1.5', 'x', '21'])('GET /s3/multipart/:uploadId/%s refuses the part number with 400', async (partNumber) => {
      // maxFileSize 100 MiB in parts of at least 5 MiB: parts 1 to 20.
      const { at } = await started()
      const res = await app().get(at(`/${partNumber}`))
      expect(res.status).toBe(400)
      expect(res.body.code).toBe('invalid_request')
    })

    it('GET /s3/multipart/:uploadId answers a bare array of { PartNumber, ETag, Size }', async () => {
      const { at } = await started()
      holdParts([
        [1, 5 * MiB],
        [2, MiB],
      ])
      const res = await app().get(at())
      expect(res.status).toBe(200)
      expect(res.body).toEqual([
        { PartNumber: 1, ETag: '"etag-1"', Size: 5 * MiB },
        { PartNumber: 2, ETag: '"etag-2"', Size: MiB },
      ])
    })

    it('POST /s3/multipart/:uploadId/complete completes with If-None-Match, verifies, and answers { location, key, bucket }', async () => {
      const { key, at } = await started()
      holdParts([
        [1, 5 * MiB],
        [2, MiB],
      ])
      const parts = [
        { PartNumber: 1, ETag: '"etag-1"' },
        { PartNumber: 2, ETag: '"etag-2"' },
      ]
      const res = await app().post(at('/complete')).send({ parts })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ location: `${endpoint}/${bucket}/${key}`, key, bucket })
      // A 2xx body with `error` is a failure to Uppy.
      expect(res.body).not.toHaveProperty('error')
      const input = s3mock.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input
      expect(input).toMatchObject({ Bucket: bucket, Key: key, UploadId: UPLOAD_ID, IfNoneMatch: '*' })
      expect(input.MultipartUpload?.Parts).toEqual(parts)
      expect(onComplete).toHaveBeenCalledWith(expect.objectContaining({ key, size: 6 * MiB, source: 'complete' }))
    })

    it('DELETE /s3/multipart/:uploadId aborts the upload on S3 and answers {}', async () => {
      const { key, at } = await started()
      const res = await app().delete(at())
      expect(res.status).toBe(200)
      expect(res.body).toEqual({})
      expect(s3mock.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([
        { Bucket: bucket, Key: key, UploadId: UPLOAD_ID },
      ])
    })

    it('POST /s3/multipart/:uploadId/complete refuses (413) and aborts parts adding up to more than maxFileSize', async () => {
      const { at } = await started(limitedTo8MiB)
      holdParts([
        [1, 5 * MiB],
        [2, 5 * MiB],
      ])
      const res = await app(limitedTo8MiB)
        .post(at('/complete'))
        .send({
          parts: [
            { PartNumber: 1, ETag: '"etag-1"' },
            { PartNumber: 2, ETag: '"etag-2"' },
          ],
        })
      expect(res.status).toBe(413)
      expect(res.body).toEqual({ code: 'file_too_large', message: expect.stringContaining('limit') })
      expect(s3mock.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input.UploadId).toBe(UPLOAD_ID)
      expect(s3mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0)
      expect(onComplete).not.toHaveBeenCalled()
    })

    it('POST /s3/multipart/:uploadId/complete answers 422 when S3 holds a gap in the parts, and keeps the upload', async () => {
      const { at } = await started()
      holdParts([
        [1, 5 * MiB],
        [3, MiB],
      ])
      const res = await app()
        .post(at('/complete'))
        .send({ parts: [{ PartNumber: 1, ETag: '"etag-1"' }] })
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('verification_failed')
      expect(s3mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0)
      expect(s3mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0)
    })

    it('POST /s3/multipart/:uploadId/complete answers 422 and aborts when S3 refuses the parts (EntityTooSmall)', async () => {
      const { at } = await started()
      holdParts([
        [1, MiB],
        [2, MiB],
      ])
      s3mock
        .on(CompleteMultipartUploadCommand)
        .rejects(Object.assign(new Error('EntityTooSmall'), { name: 'EntityTooSmall', $metadata: { httpStatusCode: 400 } }))
      const res = await app()
        .post(at('/complete'))
        .send({ parts: [{ PartNumber: 1, ETag: '"etag-1"' }] })
      expect(res.status).toBe(422)
      expect(res.body).toEqual({ code: 'verification_failed', message: expect.stringContaining('aborted') })
      expect(s3mock.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input.UploadId).toBe(UPLOAD_ID)
      expect(onComplete).not.toHaveBeenCalled()
    })

    it.each([
      ['no parts', {}],
      ['an empty list', { parts: [] }],
      ['a part without an ETag', { parts: [{ PartNumber: 1 }] }],
    ])('POST /s3/multipart/:uploadId/complete refuses %s with 400', async (_name, body) => {
      const { at } = await started()
      const res = await app().post(at('/complete')).send(body)
      expect(res.status).toBe(400)
      expect(res.body.code).toBe('invalid_request')
      expect(writesToS3()).toHaveLength(0)
    })

    const followUps: Array<[string, 'get' | 'post' | 'delete', string]> = [
      ['GET /s3/multipart/:uploadId/:partNumber', 'get', '/1'],
      ['GET /s3/multipart/:uploadId', 'get', ''],
      ['POST /s3/multipart/:uploadId/complete', 'post', '/complete'],
      ['DELETE /s3/multipart/:uploadId', 'delete', ''],
    ]
    const send = (test: ReturnType<typeof app>, method: 'get' | 'post' | 'delete', path: string) =>
      method === 'post' ? test.post(path).send({ parts: [{ PartNumber: 1, ETag: '"etag-1"' }] }) : test[method](path)

    it.each(followUps)("%s refuses a key that is not the upload id's (403) and touches nothing on S3", async (_name, method, suffix) => {
      const { key, at } = await started()
      const res = await send(app(), method, at(suffix, `${key}-other`))
      expect(res.status).toBe(403)
      expect(res.body).toEqual({ code: 'forbidden', message: expect.any(String) })
      expect(writesToS3()).toHaveLength(0)
    })

    it.each(followUps)("%s refuses another identity's upload id (403 identity_mismatch)", async (_name, method, suffix) => {
      const { at } = await started()
      const res = await send(app(asMallory), method, at(suffix))
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('identity_mismatch')
      expect(writesToS3()).toHaveLength(0)
    })

    it.each(followUps)('%s refuses an upload id with one character changed (403 invalid_token)', async (_name, method, suffix) => {
      const { key, uploadId } = await started()
      const path = `/uploads/s3/multipart/${encodeURIComponent(tampered(uploadId))}${suffix}?key=${encodeURIComponent(key)}`
      const res = await send(app(), method, path)
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('invalid_token')
      expect(writesToS3()).toHaveLength(0)
    })
  })
})
