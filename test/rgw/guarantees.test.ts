import { request as httpRequest } from 'node:http'
import { createServer as createNetServer, type Server as NetServer } from 'node:net'
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  GetObjectCommand as Get,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { PresignOptions } from '../../src/core/options'
import { createTestBucket, describeRgw, putRaw, rgwClientConfig, s3ErrorCode } from '../helpers/rgw'
import { listen, targets } from '../helpers/targets'

/**
 * Every guarantee of SPEC §5, proven with real requests against Ceph RGW (which verifies SigV4,
 * signed lengths and types, POST policies and If-None-Match). What RGW answered is noted at each
 * refusal.
 */

const MiB = 1024 * 1024
const express5 = targets.find((t) => t.name === 'Express 5')!
const koa3 = targets.find((t) => t.name === 'Koa 3')!
const fetchTarget = targets.find((t) => t.name.startsWith('fetch'))!

function bytes(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size)
  let x = seed
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    b[i] = x >>> 16
  }
  return b
}

/**
 * The token changed in a few ways, without knowing its layout: one character changed near its
 * start, middle and end (each followed by another URL-safe character, so the change is never lost
 * to base64's unused trailing bits), the last character dropped, and a character added.
 */
function tamperings(token: string): string[] {
  const safe = /[A-Za-z0-9_-]/
  const changedAt = (from: number) => {
    let i = from
    while (i < token.length - 1 && !(safe.test(token[i]!) && safe.test(token[i + 1]!))) i++
    if (i >= token.length - 1) throw new Error('no character to change')
    return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`
  }
  const n = token.length
  return [changedAt(Math.floor(n / 4)), changedAt(Math.floor(n / 2)), changedAt(n - 10), token.slice(0, -1), `${token}A`]
}

/** Who is calling, from the `x-user` header (Express and Koa requests alike). */
function user(request: any): { id: string } | false {
  const id = request?.headers?.['x-user'] ?? request?.get?.('x-user') ?? request?.headers?.get?.('x-user')
  return id ? { id } : false
}

describeRgw('SPEC §5 against Ceph RGW', () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>
  const onComplete = vi.fn((ctx: { key: string; size: number; contentType: string }) => ({ seen: ctx.key }))
  let options: PresignOptions<any, any, any>

  beforeAll(async () => {
    t = await createTestBucket('guarantees')
    options = {
      bucket: t.bucket,
      s3: rgwClientConfig(),
      secret: 'rgw-guarantees-secret-0123',
      authorize: ({ request }) => user(request),
      onComplete,
      multipart: { threshold: 5 * MiB },
    }
  })
  afterAll(() => t?.cleanup())

  const app = (extra: Partial<PresignOptions<any, any, any>> = {}, target = express5) => request(target.build({ ...options, ...extra }))
  const as = (name: string, extra: Partial<PresignOptions<any, any, any>> = {}, target = express5) => {
    const a = app(extra, target)
    return {
      post: (path: string, body: object) => a.post(`/uploads${path}`).set('x-user', name).send(body),
      get: (path: string) => a.get(`/uploads${path}`).set('x-user', name),
      delete: (path: string) => a.delete(`/uploads${path}`).set('x-user', name),
    }
  }
  const read = async (key: string) =>
    Buffer.from(await (await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))).Body!.transformToByteArray())

  describe('§5.1 S3 refuses a body larger than declared or of another type', () => {
    it('accepts exactly the declared bytes, which read back equal', async () => {
      const body = bytes(1000)
      const created = (await as('alice').post('/create', { filename: 'a b+c.bin', contentType: 'application/octet-stream', size: 1000 }))
        .body
      const put = await putRaw(created.url, { headers: created.headers, body })
      expect(put.status).toBe(200)
      expect((await read(created.key)).equals(body)).toBe(true)
    })

    it.each([
      ['one byte longer', 1001, 'SignatureDoesNotMatch'],
      ['one byte shorter', 999, 'SignatureDoesNotMatch'],
    ])('refuses a body %s than declared (%i bytes; RGW: 403 %s)', async (_name, size, code) => {
      const created = (await as('alice').post('/create', { filename: 'x.bin', contentType: 'application/octet-stream', size: 1000 })).body
      const put = await putRaw(created.url, { headers: created.headers, body: bytes(size) })
      expect(put.status).toBe(403)
      expect(s3ErrorCode(put.text)).toBe(code)
      await expect(t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: created.key }))).rejects.toThrow()
    })

    it('stores no more than the signed length when a client sends more bytes than its Content-Length says', async () => {
      const created = (await as('alice').post('/create', { filename: 'x.bin', contentType: 'application/octet-stream', size: 10 })).body
      const url = new URL(created.url)
      const status = await new Promise<number>((resolve) => {
        const req = httpRequest(url, { method: 'PUT', headers: { ...created.headers, 'content-length': '10' } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', () => resolve(0))
        req.end(bytes(20)) // 20 bytes sent against a declared and signed 10
      })
      // HTTP framing: the body is the 10 declared bytes; the rest is not part of this request.
      expect([0, 200, 400, 403]).toContain(status)
      const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: created.key })).catch(() => undefined)
      if (head) expect(head.ContentLength).toBe(10)
    })

    it('refuses another Content-Type than declared (RGW: 403 SignatureDoesNotMatch)', async () => {
      const created = (await as('alice').post('/create', { filename: 'x.png', contentType: 'image/png', size: 4 })).body
      const put = await putRaw(created.url, { headers: { ...created.headers, 'content-type': 'text/html' }, body: 'abcd' })
      expect(put.status).toBe(403)
      expect(s3ErrorCode(put.text)).toBe('SignatureDoesNotMatch')
    })

    it('refuses a PUT without the signed headers (RGW: 403)', async () => {
      const created = (await as('alice').post('/create', { filename: 'x.png', contentType: 'image/png', size: 4 })).body
      const put = await putRaw(created.url, { headers: { 'content-type': 'image/png' }, body: 'abcd' })
      expect(put.status).toBe(403)
    })
  })

  describe('§5.2 an existing object is never overwritten unless overwrite: true', () => {
    it('refuses a second upload to the same key (RGW: 412 PreconditionFailed); the first bytes stay, and complete neither accepts nor deletes them', async () => {
      const key = `fixed/${Date.now()}.txt`
      const first = (await as('alice', { keyFor: () => key }).post('/create', { filename: 'f.txt', contentType: 'text/plain', size: 5 }))
        .body
      expect((await putRaw(first.url, { headers: first.headers, body: 'first' })).status).toBe(200)
      const second = (await as('bob', { keyFor: () => key }).post('/create', { filename: 'f.txt', contentType: 'text/plain', size: 6 }))
        .body
      const put = await putRaw(second.url, { headers: second.headers, body: 'second' })
      expect(put.status).toBe(412)
      expect(s3ErrorCode(put.text)).toBe('PreconditionFailed')
      onComplete.mockClear()
      const done = await as('bob', { keyFor: () => key }).post('/complete', { token: second.token })
      expect(done.status).toBe(422)
      expect(onComplete).not.toHaveBeenCalled()
      expect((await read(key)).toString()).toBe('first')
    })

    it('replaces the object when overwrite is true', async () => {
      const key = `fixed/${Date.now()}-ow.txt`
      const first = (await as('alice', { keyFor: () => key }).post('/create', { filename: 'f.txt', contentType: 'text/plain', size: 5 }))
        .body
      await putRaw(first.url, { headers: first.headers, body: 'first' })
      const second = (
        await as('alice', { keyFor: () => key, overwrite: true }).post('/create', { filename: 'f.txt', contentType: 'text/plain', size: 6 })
      ).body
      expect(second.headers['if-none-match']).toBeUndefined()
      expect((await putRaw(second.url, { headers: second.headers, body: 'second' })).status).toBe(200)
      expect((await as('alice', { overwrite: true }).post('/complete', { token: second.token })).status).toBe(200)
      expect((await read(key)).toString()).toBe('second')
    })

    it('refuses to complete a multipart upload onto an existing key (412 already_exists); the original stays', async () => {
      const key = `fixed/${Date.now()}-mp.bin`
      const first = (await as('alice', { keyFor: () => key }).post('/create', { filename: 'f.txt', contentType: 'text/plain', size: 5 }))
        .body
      await putRaw(first.url, { headers: first.headers, body: 'first' })
      const { token, partCount } = (
        await as('bob', { keyFor: () => key }).post('/create', {
          filename: 'big.bin',
          contentType: 'application/octet-stream',
          size: 6 * MiB,
        })
      ).body
      expect(partCount).toBe(2)
      const { parts } = (await as('bob').post('/sign-parts', { token, partNumbers: [1, 2] })).body
      for (const p of parts)
        expect((await putRaw(p.url, { headers: p.headers, body: bytes(p.partNumber === 1 ? 5 * MiB : MiB) })).status).toBe(200)
      const done = await as('bob').post('/complete', { token })
      expect(done.status).toBe(412)
      expect(done.body.code).toBe('already_exists')
      expect((await read(key)).toString()).toBe('first')
      const uploads = await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: key }))
      expect(uploads.Uploads ?? []).toHaveLength(0)
    })
  })

  describe('§5.3 onComplete runs only after the object is verified on S3', () => {
    it('answers 422 and runs no hook when nothing was uploaded', async () => {
      onComplete.mockClear()
      const created = (await as('alice').post('/create', { filename: 'n.txt', contentType: 'text/plain', size: 3 })).body
      const done = await as('alice').post('/complete', { token: created.token })
      expect(done.status).toBe(422)
      expect(onComplete).not.toHaveBeenCalled()
    })

    it('answers 422, removes the object and runs no hook when the stored object differs from the declaration', async () => {
      onComplete.mockClear()
      const created = (await as('alice').post('/create', { filename: 'n.txt', contentType: 'text/plain', size: 3 })).body
      // A store that did not enforce the signed length: write our tag with the wrong size directly.
      await t.client.send(
        new PutObjectCommand({
          Bucket: t.bucket,
          Key: created.key,
          Body: 'abcdef',
          ContentType: 'text/plain',
          Metadata: { 'presign-nonce': created.headers['x-amz-meta-presign-nonce'] },
        }),
      )
      const done = await as('alice').post('/complete', { token: created.token })
      expect(done.status).toBe(422)
      expect(done.body.message).toMatch(/6 bytes/)
      expect(onComplete).not.toHaveBeenCalled()
      await expect(t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: created.key }))).rejects.toThrow()
    })

    it('runs the hook once with the verified object, and answers its result', async () => {
      onComplete.mockClear()
      const created = (await as('alice').post('/create', { filename: 'ok.txt', contentType: 'text/plain', size: 3 })).body
      await putRaw(created.url, { headers: created.headers, body: 'abc' })
      const done = await as('alice').post('/complete', { token: created.token })
      expect(done.status).toBe(200)
      expect(done.body).toMatchObject({ key: created.key, size: 3, contentType: 'text/plain', result: { seen: created.key } })
      expect(onComplete).toHaveBeenCalledTimes(1)
      expect(onComplete.mock.calls[0]![0]).toMatchObject({
        key: created.key,
        size: 3,
        contentType: 'text/plain',
        source: 'complete',
        identity: { id: 'alice' },
      })
    })
  })

  describe('§5.4 multipart uploads, size-capped by S3 and by the parts S3 reports', () => {
    it('uploads three parts that read back equal', async () => {
      const body = bytes(11 * MiB + 123, 7)
      const created = (
        await as('alice').post('/create', { filename: 'big.bin', contentType: 'application/octet-stream', size: body.length })
      ).body
      expect(created).toMatchObject({ strategy: 'multipart', partSize: 5 * MiB, partCount: 3 })
      const { parts } = (await as('alice').post('/sign-parts', { token: created.token, partNumbers: [1, 2, 3] })).body
      const etags = []
      for (const p of parts) {
        const slice = body.subarray((p.partNumber - 1) * 5 * MiB, p.partNumber * 5 * MiB)
        const res = await putRaw(p.url, { headers: p.headers, body: slice })
        expect(res.status).toBe(200)
        etags.push({ partNumber: p.partNumber, etag: res.headers.get('etag') })
      }
      const listed = (await as('alice').post('/list-parts', { token: created.token })).body.parts
      expect(listed.map((p: { size: number }) => p.size)).toEqual([5 * MiB, 5 * MiB, MiB + 123])
      const done = await as('alice').post('/complete', { token: created.token, parts: etags })
      expect(done.status).toBe(200)
      expect(done.body.size).toBe(body.length)
      expect((await read(created.key)).equals(body)).toBe(true)
    })

    it("signs each part of a batch for its own number and length: another part's body or number is refused (RGW: 403)", async () => {
      const body = bytes(11 * MiB + 123, 9)
      const created = (
        await as('alice').post('/create', { filename: 'big.bin', contentType: 'application/octet-stream', size: body.length })
      ).body
      const { parts } = (await as('alice').post('/sign-parts', { token: created.token, partNumbers: [3, 1, 2] })).body
      const url = (n: number) => parts.find((p: { partNumber: number }) => p.partNumber === n).url as string
      const slice = (n: number) => body.subarray((n - 1) * 5 * MiB, n * 5 * MiB)
      // Part 3's URL with part 1's body, part 1's with part 3's: each length is signed apart.
      for (const [n, other] of [
        [3, 1],
        [1, 3],
      ] as const) {
        const res = await putRaw(url(n), { body: slice(other) })
        expect(res.status).toBe(403)
        expect(s3ErrorCode(res.text)).toBe('SignatureDoesNotMatch')
      }
      // Part 2's URL turned into part 1's (same length): the number is signed too.
      const renumbered = url(2).replace(/([?&]partNumber=)2(&|$)/, '$11$2')
      expect(renumbered).not.toBe(url(2))
      const res = await putRaw(renumbered, { body: slice(2) })
      expect(res.status).toBe(403)
      expect(s3ErrorCode(res.text)).toBe('SignatureDoesNotMatch')
      // Each URL with its own body: the upload completes and reads back equal.
      const etags = []
      for (const n of [1, 2, 3]) {
        const put = await putRaw(url(n), { body: slice(n) })
        expect(put.status).toBe(200)
        etags.push({ partNumber: n, etag: put.headers.get('etag') })
      }
      expect((await as('alice').post('/complete', { token: created.token, parts: etags })).status).toBe(200)
      expect((await read(created.key)).equals(body)).toBe(true)
    })

    it('refuses a part body longer than signed (RGW: 403 SignatureDoesNotMatch)', async () => {
      const created = (await as('alice').post('/create', { filename: 'big.bin', contentType: 'application/octet-stream', size: 6 * MiB }))
        .body
      const { parts } = (await as('alice').post('/sign-parts', { token: created.token, partNumbers: [2] })).body
      const res = await putRaw(parts[0].url, { headers: parts[0].headers, body: bytes(MiB + 1) })
      expect(res.status).toBe(403)
      expect(s3ErrorCode(res.text)).toBe('SignatureDoesNotMatch')
      await as('alice').post('/abort', { token: created.token })
    })

    it('refuses to sign a part number past partCount (400)', async () => {
      const created = (await as('alice').post('/create', { filename: 'big.bin', contentType: 'application/octet-stream', size: 6 * MiB }))
        .body
      const res = await as('alice').post('/sign-parts', { token: created.token, partNumbers: [3] })
      expect(res.status).toBe(400)
      await as('alice').post('/abort', { token: created.token })
    })

    it('refuses (413) and aborts an Uppy upload whose parts add up to more than maxFileSize', async () => {
      const small = { maxFileSize: 8 * MiB }
      const { key, uploadId } = (
        await as('alice', small).post('/s3/multipart', { filename: 'big.bin', type: 'application/octet-stream', metadata: {} })
      ).body
      const q = `?key=${encodeURIComponent(key)}`
      for (const n of [1, 2]) {
        const { url } = (await as('alice', small).get(`/s3/multipart/${encodeURIComponent(uploadId)}/${n}${q}`)).body
        expect((await putRaw(url, { body: bytes(5 * MiB) })).status).toBe(200)
      }
      const done = await as('alice', small).post(`/s3/multipart/${encodeURIComponent(uploadId)}/complete${q}`, {
        parts: [
          { PartNumber: 1, ETag: '"x"' },
          { PartNumber: 2, ETag: '"y"' },
        ],
      })
      expect(done.status).toBe(413)
      expect(done.body.message).toMatch(/limit/)
      const uploads = await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: key }))
      expect(uploads.Uploads ?? []).toHaveLength(0)
      await expect(t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }))).rejects.toThrow()
    })

    it('after abort, S3 lists no such upload and list-parts answers 404', async () => {
      const created = (await as('alice').post('/create', { filename: 'big.bin', contentType: 'application/octet-stream', size: 6 * MiB }))
        .body
      expect((await as('alice').post('/abort', { token: created.token })).status).toBe(200)
      const uploads = await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: created.key }))
      expect(uploads.Uploads ?? []).toHaveLength(0)
      const listed = await as('alice').post('/list-parts', { token: created.token })
      expect(listed.status).toBe(404)
    })
  })

  describe('§5.5 follow-up calls refuse tampered, expired and foreign tokens', () => {
    let token = ''
    let key = ''
    beforeAll(async () => {
      ;({ token, key } = (
        await as('alice').post('/create', { filename: 'big.bin', contentType: 'application/octet-stream', size: 6 * MiB })
      ).body)
    })
    afterAll(() => as('alice').post('/abort', { token }))

    const routes: Array<[string, (tok: string) => object]> = [
      ['/sign-parts', (tok) => ({ token: tok, partNumbers: [1] })],
      ['/list-parts', (tok) => ({ token: tok })],
      ['/complete', (tok) => ({ token: tok })],
      ['/abort', (tok) => ({ token: tok })],
    ]

    it.each(routes)('%s refuses a tampered token (403 invalid_token)', async (path, body) => {
      for (const forged of tamperings(token)) {
        const res = await as('alice').post(path, body(forged))
        expect(res.status).toBe(403)
        expect(res.body.code).toBe('invalid_token')
      }
    })

    it.each(routes)("%s refuses another identity's token (403 identity_mismatch)", async (path, body) => {
      const res = await as('mallory').post(path, body(token))
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('identity_mismatch')
    })

    it.each(routes)('%s refuses an expired token (403 token_expired)', async (path, body) => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 25 * 3600 * 1000 })
      try {
        const res = await as('alice').post(path, body(token))
        expect(res.status).toBe(403)
        expect(res.body.code).toBe('token_expired')
      } finally {
        vi.useRealTimers()
      }
    })

    it('the Uppy routes refuse a key that is not the upload id’s (403)', async () => {
      const res = await as('alice').get(`/s3/multipart/${encodeURIComponent(token)}/1?key=${encodeURIComponent(`${key}-other`)}`)
      expect(res.status).toBe(403)
      expect(res.body.message).toBeTruthy()
    })
  })

  describe('§5.7 stateless: any instance with the same secret serves any step', () => {
    it('an upload created through Express is signed, listed and completed through Koa and fetch', async () => {
      const body = bytes(6 * MiB, 3)
      const created = (
        await as('alice', {}, express5).post('/create', { filename: 'big.bin', contentType: 'application/octet-stream', size: body.length })
      ).body
      const { parts } = (await as('alice', {}, koa3).post('/sign-parts', { token: created.token, partNumbers: [1, 2] })).body
      for (const p of parts)
        await putRaw(p.url, { headers: p.headers, body: body.subarray((p.partNumber - 1) * 5 * MiB, p.partNumber * 5 * MiB) })
      expect((await as('alice', {}, fetchTarget).post('/list-parts', { token: created.token })).body.parts).toHaveLength(2)
      const done = await as('alice', {}, koa3).post('/complete', { token: created.token })
      expect(done.status).toBe(200)
      expect((await read(created.key)).equals(body)).toBe(true)
    })

    it('an instance with another secret refuses the token', async () => {
      const created = (await as('alice').post('/create', { filename: 'a.txt', contentType: 'text/plain', size: 1 })).body
      const res = await as('alice', { secret: 'another-secret-0123456789' }).post('/complete', { token: created.token })
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('invalid_token')
    })
  })

  describe('§5.8 URLs are byte-identical to getSignedUrl for the same request and time', () => {
    it('the single PUT, a part and a download, and they work on RGW', async () => {
      // A download needs an object (its type decides the disposition): store one in real time.
      const stored = (await as('alice').post('/create', { filename: 'stored.txt', contentType: 'text/plain', size: 4 })).body
      expect((await putRaw(stored.url, { headers: stored.headers, body: 'abcd' })).status).toBe(200)
      const now = new Date('2026-11-28T12:34:56Z')
      vi.useFakeTimers({ toFake: ['Date'], now })
      let created: any
      let part: any
      let download: any
      let multipart: any
      try {
        created = (
          await as('alice').post('/create', { filename: 'same.txt', contentType: 'text/plain', size: 4, metadata: { album: 'x y' } })
        ).body
        download = (await as('alice').post('/download', { key: stored.key })).body
        multipart = (await as('alice').post('/create', { filename: 'big.bin', contentType: 'application/octet-stream', size: 6 * MiB }))
          .body
        part = (await as('alice').post('/sign-parts', { token: multipart.token, partNumbers: [2] })).body.parts[0]
      } finally {
        vi.useRealTimers()
      }
      const meta = { album: 'x y', 'presign-filename': 'same.txt', 'presign-nonce': created.headers['x-amz-meta-presign-nonce'] }
      const oracle = await getSignedUrl(
        t.client,
        new PutObjectCommand({
          Bucket: t.bucket,
          Key: created.key,
          ContentType: 'text/plain',
          ContentLength: 4,
          IfNoneMatch: '*',
          Metadata: meta,
        }),
        {
          expiresIn: 600,
          signingDate: now,
          signableHeaders: new Set([
            'content-type',
            'content-length',
            'if-none-match',
            'x-amz-meta-album',
            'x-amz-meta-presign-filename',
            'x-amz-meta-presign-nonce',
          ]),
          unhoistableHeaders: new Set(['x-amz-meta-album', 'x-amz-meta-presign-filename', 'x-amz-meta-presign-nonce']),
        },
      )
      expect(created.url).toBe(oracle)
      const partOracle = await getSignedUrl(
        t.client,
        new UploadPartCommand({
          Bucket: t.bucket,
          Key: multipart.key,
          UploadId: new URL(part.url).searchParams.get('uploadId')!,
          PartNumber: 2,
          ContentLength: MiB,
        }),
        {
          expiresIn: 600,
          signingDate: now,
          signableHeaders: new Set(['content-length']),
        },
      )
      expect(part.url).toBe(partOracle)
      expect(download.url).toBe(
        await getSignedUrl(t.client, new Get({ Bucket: t.bucket, Key: stored.key }), { expiresIn: 600, signingDate: now }),
      )
      for (const url of [created.url, part.url, download.url]) expect(url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum/i)
      await as('alice').post('/abort', { token: multipart.token })
    })
  })

  describe('Uppy routes at the HTTP level', () => {
    it('/s3/params answers a POST policy RGW accepts, and RGW refuses a file over maxFileSize (EntityTooLarge)', async () => {
      const a = as('alice', { maxFileSize: 1000 })
      const params = (await a.get('/s3/params?filename=p.txt&type=text%2Fplain&metadata[caption]=hello')).body
      expect(params).toMatchObject({
        method: 'POST',
        url: expect.stringMatching(/\/$/),
        fields: expect.objectContaining({ key: expect.any(String), 'Content-Type': 'text/plain' }),
      })
      const post = async (size: number) => {
        const form = new FormData()
        for (const [k, v] of Object.entries(params.fields as Record<string, string>)) form.append(k, v)
        form.append('file', new Blob([new Uint8Array(bytes(size))], { type: 'text/plain' }), 'p.txt')
        const res = await fetch(params.url, { method: 'POST', body: form })
        return { status: res.status, text: await res.text() }
      }
      const tooBig = await post(1001)
      expect(tooBig.status).toBe(400)
      expect(s3ErrorCode(tooBig.text)).toBe('EntityTooLarge')
      const ok = await post(1000)
      expect(ok.status).toBe(204)
      const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: params.fields.key }))
      expect(head).toMatchObject({ ContentLength: 1000, ContentType: 'text/plain' })
      expect(head.Metadata?.caption).toBe('hello')
    })

    it('the multipart routes upload, list and complete: { location, key, bucket }', async () => {
      const body = bytes(11 * MiB, 9)
      const { key, uploadId, bucket } = (
        await as('alice').post('/s3/multipart', { filename: 'u.bin', type: 'application/octet-stream', metadata: { name: 'u.bin' } })
      ).body
      expect(bucket).toBe(t.bucket)
      const id = encodeURIComponent(uploadId)
      const q = `?key=${encodeURIComponent(key)}`
      const parts = []
      for (const n of [1, 2, 3]) {
        const { url } = (await as('alice').get(`/s3/multipart/${id}/${n}${q}`)).body
        const res = await putRaw(url, { body: body.subarray((n - 1) * 5 * MiB, n * 5 * MiB) })
        parts.push({ PartNumber: n, ETag: res.headers.get('etag') })
      }
      const listed = (await as('alice').get(`/s3/multipart/${id}${q}`)).body
      expect(listed.map((p: { PartNumber: number; Size: number }) => [p.PartNumber, p.Size])).toEqual([
        [1, 5 * MiB],
        [2, 5 * MiB],
        [3, MiB],
      ])
      const done = (await as('alice').post(`/s3/multipart/${id}/complete${q}`, { parts })).body
      expect(done).toMatchObject({ key, bucket: t.bucket, location: expect.stringContaining(`/${t.bucket}/`) })
      expect((await read(key)).equals(body)).toBe(true)
    })
  })
})

describe('§5.6 storage that refuses or never answers (real sockets)', () => {
  let hang: NetServer
  let hangPort = 0
  const held: Array<import('node:net').Socket> = []
  beforeAll(async () => {
    hang = createNetServer((socket) => held.push(socket)) // accepts, never answers
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve))
    hangPort = (hang.address() as { port: number }).port
  })
  afterAll(() => {
    for (const s of held) s.destroy()
    hang.close()
  })

  const optionsFor = (endpoint: string): PresignOptions<any, any, any> => ({
    bucket: 'nowhere',
    region: 'us-east-1',
    s3: { endpoint, forcePathStyle: true, credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' }, maxAttempts: 1 },
    secret: 'fault-secret-0123456789',
    authorize: () => true,
    timeout: 500,
    multipart: { threshold: 5 * MiB },
  })

  it('answers 503 JSON quickly when storage refuses the connection, and keeps serving', async () => {
    const server = await listen(express5.build(optionsFor('http://127.0.0.1:1')))
    try {
      const started = Date.now()
      const res = await fetch(`${server.url}/uploads/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'a', size: 6 * MiB }),
      })
      expect(res.status).toBe(503)
      expect((await res.json()).code).toBe('storage_unavailable')
      expect(Date.now() - started).toBeLessThan(3000)
      const single = await fetch(`${server.url}/uploads/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'a', size: 1 }),
      })
      expect(single.status).toBe(200)
    } finally {
      await server.close()
    }
  })

  it('answers 504 JSON within the timeout when storage accepts and never answers, and keeps serving', async () => {
    const server = await listen(express5.build(optionsFor(`http://127.0.0.1:${hangPort}`)))
    try {
      const started = Date.now()
      const res = await fetch(`${server.url}/uploads/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'a', size: 6 * MiB }),
      })
      expect(res.status).toBe(504)
      expect((await res.json()).code).toBe('storage_timeout')
      expect(Date.now() - started).toBeLessThan(3000)
      const single = await fetch(`${server.url}/uploads/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'a', size: 1 }),
      })
      expect(single.status).toBe(200)
    } finally {
      await server.close()
    }
  })
})
