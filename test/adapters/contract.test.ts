import { CreateMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { PresignOptions } from '../../src/core/options'
import { PresignError } from '../../src/core/errors'
import { createPresigner } from '../../src/core/presigner'
import { targets } from '../helpers/targets'

/**
 * The contract every adapter keeps (SPEC §4), run through Express 4/5, Koa 2/3 and fetch, with
 * and without a body parser in front. S3 is mocked here; the real thing is proven in test/rgw/.
 */

const s3mock = mockClient(S3Client)

const base: PresignOptions<any, any, any> = {
  bucket: 'contract-bucket',
  region: 'us-east-1',
  s3: { credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }, endpoint: 'http://127.0.0.1:1', forcePathStyle: true },
  secret: 'contract-secret-0123456789',
  authorize: () => ({ id: 'alice' }),
  onComplete: ({ key, size }) => ({ stored: key, size }),
}

const file = { filename: 'photo.png', contentType: 'image/png', size: 1234 }

beforeEach(() => s3mock.reset())
afterEach(() => vi.restoreAllMocks())

/**
 * Every target twice: the options as given, and the same options as the one route `r` of a mount
 * with `routes` (SPEC §3), whose routes then live under `/uploads/r/`.
 */
const withRoutes = [false, true].flatMap((routed) =>
  targets.map((target) => ({ ...target, name: routed ? `${target.name}, as routes.r` : target.name, routed })),
)

describe.each(withRoutes)('$name', (target) => {
  const app = (options: Partial<PresignOptions<any, any, any>> = {}) => {
    const { secret, ...rest } = { ...base, ...options }
    return request(
      target.build(target.routed ? { secret, bucket: rest.bucket, authorize: rest.authorize, routes: { r: rest } } : { secret, ...rest }),
    )
  }
  const at = (path: string) => (target.routed ? `/uploads/r${path}` : `/uploads${path}`)

  async function created(options: Partial<PresignOptions<any, any, any>> = {}) {
    const res = await app(options).post(at('/create')).send(file)
    expect(res.status).toBe(200)
    return res.body
  }

  function headAsUploaded(body: { headers: Record<string, string> }, overrides: Record<string, unknown> = {}) {
    s3mock.on(HeadObjectCommand).resolves({
      ContentLength: file.size,
      ContentType: file.contentType,
      ETag: '"abc"',
      Metadata: { 'presign-nonce': body.headers['x-amz-meta-presign-nonce']! },
      ...overrides,
    })
  }

  describe('POST /create', () => {
    it('answers a signed single PUT with the headers to send', async () => {
      const body = await created()
      expect(body).toMatchObject({ strategy: 'single', method: 'PUT', key: expect.stringMatching(/^[0-9a-f-]{36}\/photo\.png$/) })
      const url = new URL(body.url)
      expect(url.pathname).toBe(`/contract-bucket/${body.key}`)
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe(
        'content-length;content-type;host;if-none-match;x-amz-meta-presign-filename;x-amz-meta-presign-nonce',
      )
      // The original name travels signed with the object, for onComplete (from complete or S3 events).
      expect(body.headers['x-amz-meta-presign-filename']).toBe('photo.png')
      expect(url.search).not.toMatch(/checksum/i)
      expect(body.headers).toMatchObject({ 'content-type': 'image/png', 'if-none-match': '*' })
      expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now())
      expect(typeof body.token).toBe('string')
    })

    it('answers JSON errors with no-store caching', async () => {
      const res = await app()
        .post(at('/create'))
        .send({ ...file, size: -1 })
      expect(res.status).toBe(400)
      expect(res.headers['content-type']).toMatch(/^application\/json/)
      expect(res.body).toEqual({ code: 'invalid_request', message: expect.stringContaining('size') })
    })

    it.each([
      ['a missing filename', { ...file, filename: undefined }],
      ['a numeric filename', { ...file, filename: 42 }],
      ['a fractional size', { ...file, size: 1.5 }],
      ['a size given as a string', { ...file, size: '1234' }],
      ['a malformed content type', { ...file, contentType: 'image/png\r\nx-evil: 1' }],
      ['a body that is an array', [file]],
      ['a metadata header injection', { ...file, metadata: { a: 'x\r\ny: z' } }],
      ['metadata posing as the package tag', { ...file, metadata: { 'presign-nonce': 'forged' } }],
      ['metadata posing as the signed file name', { ...file, metadata: { 'Presign-Filename': 'invoice.pdf' } }],
      [
        "a file name and metadata over S3's 2 KB together",
        { ...file, filename: `${'n'.repeat(1000)}.png`, metadata: { note: 'x'.repeat(1000) } },
      ],
      ['a bad checksum', { ...file, checksum: 'nope' }],
      ['a file name that is not valid Unicode (a lone surrogate)', { ...file, filename: '\ud800x.png' }],
    ])('refuses %s with 400', async (_name, body) => {
      const res = await app()
        .post(at('/create'))
        .send(body as object)
      expect(res.status).toBe(400)
      expect(res.body.code).toBe('invalid_request')
    })

    it('refuses invalid JSON with 400 (from the body parser when there is one)', async () => {
      const res = await app().post(at('/create')).set('content-type', 'application/json').send('{"filename":')
      expect(res.status).toBe(400)
      if (!target.parser) expect(res.body.code).toBe('invalid_json')
    })

    it('refuses a body that is not declared as JSON with 415 (or 400 when a parser took it)', async () => {
      const res = await app().post(at('/create')).set('content-type', 'text/plain').send(JSON.stringify(file))
      expect([400, 415]).toContain(res.status)
      expect(res.body.message).toBeTruthy()
    })

    it('refuses a body over 1 MiB with 413 (from the body parser when there is one)', async () => {
      const res = await app()
        .post(at('/create'))
        .send({ ...file, filler: 'x'.repeat(1024 * 1024) })
      expect(res.status).toBe(413)
      if (!target.parser) expect(res.body.code).toBe('body_too_large')
    })

    it('refuses a file over maxFileSize with 413', async () => {
      const res = await app({ maxFileSize: 1000 }).post(at('/create')).send(file)
      expect(res.status).toBe(413)
      expect(res.body).toMatchObject({ code: 'file_too_large', message: expect.stringContaining('limit') })
    })

    it('refuses a content type outside allowedContentTypes with 415', async () => {
      const res = await app({ allowedContentTypes: ['application/pdf'] })
        .post(at('/create'))
        .send(file)
      expect(res.status).toBe(415)
      expect(res.body.code).toBe('content_type_not_allowed')
    })

    it('accepts wildcard content types', async () => {
      const res = await app({ allowedContentTypes: ['image/*'] })
        .post(at('/create'))
        .send(file)
      expect(res.status).toBe(200)
    })

    it('answers 403 when authorize returns false', async () => {
      const res = await app({ authorize: () => false })
        .post(at('/create'))
        .send(file)
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('forbidden')
    })

    it('keeps the status and message of a 401 thrown by authorize', async () => {
      const res = await app({
        authorize: () => {
          throw Object.assign(new Error('Log in first'), { status: 401, expose: true })
        },
      })
        .post(at('/create'))
        .send(file)
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ code: 'unauthorized', message: 'Log in first' })
    })

    it('keeps the status and message of a 429 thrown by authorize', async () => {
      const res = await app({
        authorize: () => {
          throw Object.assign(new Error('Slow down'), { status: 429, expose: true })
        },
      })
        .post(at('/create'))
        .send(file)
      expect(res.status).toBe(429)
      expect(res.body).toEqual({ code: 'too_many_requests', message: 'Slow down' })
    })

    it('passes a crash in authorize to the host error handler instead of answering 403', async () => {
      const res = await app({
        authorize: () => {
          throw new Error('db password is hunter2')
        },
      })
        .post(at('/create'))
        .send(file)
      // The host's handler decides what to show (this test host echoes the message); we never
      // turn a crash into a refusal that no operator sees.
      expect(res.status).toBe(500)
      expect(res.body.code).toBe('host_error')
    })

    it('passes the file and the framework request to authorize and keyFor', async () => {
      const authorize = vi.fn(() => ({ id: 'bob' }))
      const keyFor = vi.fn(({ identity, file: f }) => `users/${identity.id}/${f.filename}`)
      const res = await app({ authorize, keyFor }).post(at('/create')).send(file)
      expect(res.body.key).toBe('users/bob/photo.png')
      expect(authorize).toHaveBeenCalledWith(
        expect.objectContaining({ action: 'upload', file: expect.objectContaining(file), request: expect.anything() }),
      )
    })

    it('refuses a key from keyFor that escapes with ..', async () => {
      const res = await app({ keyFor: () => 'a/../b' })
        .post(at('/create'))
        .send(file)
      expect(res.status).toBe(400)
      expect(res.body.code).toBe('invalid_key')
    })

    it('omits If-None-Match when overwrite is true', async () => {
      const body = await created({ overwrite: true })
      expect(body.headers['if-none-match']).toBeUndefined()
    })
  })

  describe('POST /complete', () => {
    it('verifies the object, then answers what onComplete returned', async () => {
      const body = await created()
      headAsUploaded(body)
      const res = await app().post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({
        key: body.key,
        size: 1234,
        contentType: 'image/png',
        etag: '"abc"',
        result: { stored: body.key, size: 1234 },
      })
    })

    it('answers 422 and deletes the object when its size differs', async () => {
      const body = await created()
      headAsUploaded(body, { ContentLength: 99 })
      const onComplete = vi.fn()
      const res = await app({ onComplete }).post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(422)
      expect(onComplete).not.toHaveBeenCalled()
      expect(s3mock.commandCalls(DeleteObjectCommand)).toHaveLength(1)
    })

    it('answers 422 without deleting an object this upload did not write', async () => {
      const body = await created()
      headAsUploaded(body, { ContentLength: 99, Metadata: { 'presign-nonce': 'someone-else' } })
      const res = await app().post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(422)
      expect(s3mock.commandCalls(DeleteObjectCommand)).toHaveLength(0)
    })

    it('answers 422 when nothing was uploaded', async () => {
      const body = await created()
      s3mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }))
      const res = await app().post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('verification_failed')
    })

    it('refuses a tampered token with 403', async () => {
      const body = await created()
      const res = await app()
        .post(at('/complete'))
        // Two other characters at the end (a token may end in "AA" itself: that would be no tampering).
        .send({ token: `${body.token.slice(0, -2)}${body.token.endsWith('AA') ? 'BB' : 'AA'}` })
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('invalid_token')
    })

    it("refuses another identity's token with 403", async () => {
      const body = await created()
      const res = await app({ authorize: () => ({ id: 'mallory' }) })
        .post(at('/complete'))
        .send({ token: body.token })
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('identity_mismatch')
    })

    it('maps a storage timeout to 504', async () => {
      const body = await created()
      s3mock.on(HeadObjectCommand).rejects(Object.assign(new Error('aborted'), { name: 'AbortError' }))
      const res = await app().post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(504)
      expect(res.body.code).toBe('storage_timeout')
    })

    it('maps a refused connection to 503', async () => {
      const body = await created()
      s3mock.on(HeadObjectCommand).rejects(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
      const res = await app().post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(503)
      expect(res.body.code).toBe('storage_unavailable')
    })

    it('maps a storage 500 to 502 without S3 details', async () => {
      const body = await created()
      s3mock.on(HeadObjectCommand).rejects(
        Object.assign(new Error('<Error><Code>InternalError</Code></Error>'), {
          name: 'InternalError',
          $metadata: { httpStatusCode: 500 },
        }),
      )
      const res = await app().post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(502)
      expect(res.text).not.toContain('<Error>')
    })

    it('hands an error thrown by onComplete to the host framework', async () => {
      const body = await created()
      headAsUploaded(body)
      const res = await app({
        onComplete: () => {
          throw new Error('hook exploded')
        },
      })
        .post(at('/complete'))
        .send({ token: body.token })
      expect(res.status).toBe(500)
      expect(res.body).toEqual({ code: 'host_error', message: 'hook exploded' })
    })

    it('answers a PresignError thrown by onComplete as its own JSON error', async () => {
      const body = await created()
      headAsUploaded(body)
      const res = await app({
        onComplete: () => {
          throw new PresignError('verification_failed', 'Virus found')
        },
      })
        .post(at('/complete'))
        .send({ token: body.token })
      expect(res.status).toBe(422)
      expect(res.body).toEqual({ code: 'verification_failed', message: 'Virus found' })
    })
  })

  describe('onError', () => {
    it('hears of refusals, storage failures and hook crashes, and never changes the answer', async () => {
      const events: Array<{ code: string; status: number; action: string }> = []
      const onError = vi.fn(({ code, status, action }: { code: string; status: number; action: string }) => {
        events.push({ code, status, action })
        throw new Error('a broken logger')
      })
      vi.spyOn(console, 'error').mockImplementation(() => {})
      const refused = await app({ onError, authorize: () => false })
        .post(at('/create'))
        .send(file)
      expect(refused.status).toBe(403)
      const body = await created({ onError })
      s3mock.on(HeadObjectCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }))
      const failed = await app({ onError }).post(at('/complete')).send({ token: body.token })
      expect(failed.status).toBe(502)
      const crashed = await app({
        onError,
        authorize: () => {
          throw new TypeError('db down')
        },
      })
        .post(at('/create'))
        .send(file)
      expect(crashed.status).toBe(500)
      expect(crashed.body.code).toBe('host_error')
      expect(events).toEqual([
        { code: 'forbidden', status: 403, action: 'upload' },
        { code: 'storage_error', status: 502, action: 'complete' },
        { code: 'internal_error', status: 500, action: 'upload' },
      ])
    })

    it('prints one line for 5xx answers and hook failures by default, nothing for refusals', async () => {
      const log = vi.spyOn(console, 'error').mockImplementation(() => {})
      expect(
        (
          await app({ authorize: () => false })
            .post(at('/create'))
            .send(file)
        ).status,
      ).toBe(403)
      expect(log).not.toHaveBeenCalled()
      const body = await created()
      s3mock.on(HeadObjectCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }))
      expect((await app().post(at('/complete')).send({ token: body.token })).status).toBe(502)
      expect(log).toHaveBeenCalledTimes(1)
      expect(String(log.mock.calls[0]![0])).toMatch(/^\[s3-presign-middleware\] complete.*502 storage_error.*InternalError: boom/)
    })
  })

  describe('download', () => {
    const stored = (contentType: string) =>
      s3mock.on(HeadObjectCommand).resolves({ ContentLength: 3, ContentType: contentType, ETag: '"e"' })

    it('POST /download answers a presigned GET after asking authorize', async () => {
      stored('text/plain')
      const authorize = vi.fn(() => true as const)
      const res = await app({ authorize }).post(at('/download')).send({ key: 'a/b c.txt' })
      expect(res.status).toBe(200)
      expect(new URL(res.body.url).pathname).toBe('/contract-bucket/a/b%20c.txt')
      expect(authorize).toHaveBeenCalledWith(expect.objectContaining({ action: 'download', key: 'a/b c.txt' }))
      expect(new URL(res.body.url).searchParams.has('response-content-disposition')).toBe(false)
    })

    it.each([
      'text/html',
      'image/svg+xml',
      'application/xhtml+xml; charset=utf-8',
      'text/javascript',
      'application/rss+xml',
      // "Unknown" types: browsers sniff the bytes, and HTML runs (found by an outside attack).
      'application/unknown',
      'Unknown/Unknown',
      'application/x-unknown-content-type',
      // Stored by another tool, not one media type: browsers read these their own way.
      '*/*',
      'text/plain, text/html',
      'text/html (x)',
    ])('presigns a %s object as an attachment (SPEC §5.13)', async (contentType) => {
      stored(contentType)
      const res = await app().post(at('/download')).send({ key: 'a/page' })
      expect(res.status).toBe(200)
      expect(new URL(res.body.url).searchParams.get('response-content-disposition')).toBe('attachment')
    })

    it('answers 404 JSON when there is no object at the key', async () => {
      s3mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }))
      const res = await app().post(at('/download')).send({ key: 'a/missing.txt' })
      expect(res.status).toBe(404)
      expect(res.body.code).toBe('not_found')
    })

    it('GET /download?key= redirects to the presigned GET', async () => {
      stored('text/plain')
      const res = await app().get(at('/download?key=a%2Fb.txt'))
      expect(res.status).toBe(302)
      expect(res.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:1\/contract-bucket\/a\/b\.txt\?/)
      expect(res.headers['cache-control']).toBe('no-store')
    })

    it.each(['../etc/passwd', '/abs', '', 'a\u0000b'])('refuses the key %j with 400', async (key) => {
      const res = await app().post(at('/download')).send({ key })
      expect(res.status).toBe(400)
    })
  })

  describe('object settings (SPEC §3 object)', () => {
    const object = {
      serverSideEncryption: 'aws:kms' as const,
      kmsKeyId: 'key-1',
      cacheControl: 'private, max-age=60',
      contentDisposition: ({ filename }: { filename: string }) => `attachment; filename="${filename}"`,
      tags: { app: 'contract' },
    }
    const settingHeaders = {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'key-1',
      'cache-control': 'private, max-age=60',
      'content-disposition': 'attachment; filename="photo.png"',
      'x-amz-tagging': 'app=contract',
    }
    const stored = {
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:1:key/key-1',
      CacheControl: 'private, max-age=60',
    }

    it('signs every setting into the PUT and lists it in the headers to send', async () => {
      const body = await created({ object })
      expect(body.headers).toMatchObject(settingHeaders)
      const signed = new URL(body.url).searchParams.get('X-Amz-SignedHeaders')!.split(';')
      for (const name of Object.keys(settingHeaders)) expect(signed).toContain(name)
    })

    it('completes an object stored with its settings, and clears the pending tag with pendingTag', async () => {
      const body = await created({ object, pendingTag: true })
      expect(body.headers['x-amz-tagging']).toBe('app=contract&presign-pending=1')
      headAsUploaded(body, { ...stored, ContentDisposition: 'attachment; filename="photo.png"', TagCount: 2 })
      s3mock.on(PutObjectTaggingCommand).resolves({})
      const res = await app({ object, pendingTag: true }).post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(200)
      const tagged = s3mock.commandCalls(PutObjectTaggingCommand)
      expect(tagged).toHaveLength(1)
      expect(tagged[0]!.args[0].input).toMatchObject({ Key: body.key, Tagging: { TagSet: [{ Key: 'app', Value: 'contract' }] } })
    })

    it('completes again after the pending tag was cleared (a retried complete), never removing the accepted file', async () => {
      const body = await created({ object, pendingTag: true })
      headAsUploaded(body, { ...stored, ContentDisposition: 'attachment; filename="photo.png"', TagCount: 1 })
      s3mock.on(PutObjectTaggingCommand).resolves({})
      const res = await app({ object, pendingTag: true }).post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(200)
      expect(s3mock.commandCalls(DeleteObjectCommand)).toHaveLength(0)
    })

    it.each([
      ['not encrypted', { ServerSideEncryption: undefined }],
      ['encrypted with another key', { SSEKMSKeyId: 'arn:aws:kms:us-east-1:1:key/other' }],
      ['without its Cache-Control', { CacheControl: undefined }],
      ['without its tags', { TagCount: 0 }],
    ])('answers 422 and deletes an object stored %s', async (_name, change) => {
      const body = await created({ object })
      headAsUploaded(body, { ...stored, ContentDisposition: 'attachment; filename="photo.png"', TagCount: 1, ...change })
      const onComplete = vi.fn()
      const res = await app({ object, onComplete }).post(at('/complete')).send({ token: body.token })
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('verification_failed')
      expect(onComplete).not.toHaveBeenCalled()
      expect(s3mock.commandCalls(DeleteObjectCommand)).toHaveLength(1)
    })

    it('sends the settings on CreateMultipartUpload and pins them in POST policies', async () => {
      s3mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' })
      const res = await app({ object, multipart: { threshold: 1000 } })
        .post(at('/create'))
        .send(file)
      expect(res.body.strategy).toBe('multipart')
      expect(s3mock.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input).toMatchObject({
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'key-1',
        CacheControl: 'private, max-age=60',
        ContentDisposition: 'attachment; filename="photo.png"',
        Tagging: 'app=contract',
      })
      const params = await app({ object }).get(at('/s3/params?filename=photo.png&type=image%2Fpng'))
      expect(params.status).toBe(200)
      expect(params.body.fields).toMatchObject({
        'x-amz-server-side-encryption': 'aws:kms',
        'Cache-Control': 'private, max-age=60',
        tagging: '<Tagging><TagSet><Tag><Key>app</Key><Value>contract</Value></Tag></TagSet></Tagging>',
      })
    })

    // Fastify reports a plugin's start-up error at ready(): the core's own check is what every adapter runs.
    it('refuses invalid settings at start-up with a message naming the fix', () => {
      expect(() => createPresigner({ ...base, object: { serverSideEncryption: 'aws:kms', tags: { 'aws:x': '1' } } })).toThrow(
        /object\.tags/,
      )
      expect(() => createPresigner({ ...base, object: { serverSideEncryption: 'AES128' as 'AES256' } })).toThrow(/AES256' or 'aws:kms'/)
      expect(() => createPresigner({ ...base, object: { cacheControl: 'a\r\nb' } })).toThrow(/printable ASCII/)
      expect(() => createPresigner({ ...base, object: { kmsKeyId: 'k' } })).toThrow(/need `serverSideEncryption: 'aws:kms'`/)
    })
  })

  describe('onAbort', () => {
    it('tells onError when onAbort throws, and the abort still answers 200', async () => {
      const body = await created()
      const onError = vi.fn()
      const onAbort = vi.fn(() => {
        throw new Error('books unavailable')
      })
      const res = await app({ onAbort, onError }).post(at('/abort')).send({ token: body.token })
      expect(res.status).toBe(200)
      expect(onAbort).toHaveBeenCalledWith(expect.objectContaining({ reason: 'abort', key: body.key, source: 'abort' }))
      expect(onError).toHaveBeenCalledWith(
        expect.objectContaining({ code: 'internal_error', status: 500, action: 'abort', error: expect.any(Error) }),
      )
    })
  })

  describe('routing', () => {
    it('answers 405 with Allow for a wrong method', async () => {
      const res = await app().get(at('/create'))
      expect(res.status).toBe(405)
      expect(res.headers.allow).toBe('POST')
      expect(res.body.code).toBe('method_not_allowed')
    })

    it('leaves paths that are not its routes alone', async () => {
      const res = await app().get(at('/nothing-here'))
      expect(res.status).toBe(404)
      expect(res.body.code).toBe(target.passesThrough ? 'host_not_found' : 'not_found')
    })
  })
})
