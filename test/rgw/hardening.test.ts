import { randomUUID } from 'node:crypto'
import type { RequestListener } from 'node:http'
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import express, { type NextFunction, type Request, type Response } from 'express'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import { PresignError, createPresigner, type PresignOptions } from '../../src/index'
import { createTestBucket, describeRgw, putRaw, rgwClientConfig, s3ErrorCode } from '../helpers/rgw'
import { s3Notification, viaEventBridge } from '../helpers/s3-events'
import { listen } from '../helpers/targets'
import { callApp } from '../helpers/app-call'

/**
 * Issue 9, items 4, 5, 6 (second half), 8, 9 and 10: ways around the rules that an outside
 * attack found. One Express 5 app on a loopback port mounts the package several times, each
 * mount with the options one item needs; every presigned URL is driven with fetch against
 * Ceph RGW, and what RGW answered is noted at each refusal. (Item 1, mounts sharing a secret:
 * hardening-mounts.test.ts.)
 */

const SECRET = 'hardening-secret-0123456789abcdef'

const call = callApp

const authorize = ({ request }: { request: Request }) => {
  const id = request.get('x-user')
  return id ? { id } : false
}

type Options = PresignOptions<Request, any, any>

describeRgw('issue 9 hardening against RGW', () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>
  let server: { url: string; close: () => Promise<void> }
  /** What the host's own error handler received. */
  const hostErrors: unknown[] = []
  /** The last error `authorize` threw at `/auth`. */
  let thrownByAuthorize: unknown
  const eventsDone = vi.fn((ctx: { key: string }) => ({ handled: ctx.key }))

  beforeAll(async () => {
    t = await createTestBucket('hardening-rgw')
    const base = { bucket: t.bucket, s3: rgwClientConfig(), secret: SECRET, authorize }
    const mounts: Record<string, Options> = {
      // item 4: a keyFor that can repeat a key (here: the one the app passes in `x-key`)
      '/strict': {
        ...base,
        overwrite: false,
        maxFileSize: 1000,
        keyFor: ({ request, file }) => request.get('x-key') ?? `${randomUUID()}/${file.filename}`,
      },
      // item 4: default keys (a fresh UUID each), never overwriting
      '/capped': { ...base, overwrite: false, maxFileSize: 1000 },
      // items 5 and 6
      '/uploads': { ...base, onComplete: eventsDone },
      // item 8
      '/images': { ...base, allowedContentTypes: ['image/*'] },
      '/images-and-svg': { ...base, allowedContentTypes: ['image/*', 'image/svg+xml'] },
      '/text': { ...base, allowedContentTypes: ['text/*'] },
      '/apps': { ...base, allowedContentTypes: ['application/*'] },
      // item 9
      '/scan': {
        ...base,
        multipart: { threshold: 1024 },
        onComplete: () => {
          throw new PresignError('verification_failed', 'virus found')
        },
      },
      '/crash': {
        ...base,
        onComplete: () => {
          throw new Error('scanner crashed')
        },
      },
      // item 10: `x-fail: <status>` throws an exposed HTTP error, `x-fail: crash` a TypeError
      '/auth': {
        ...base,
        authorize: ({ request }) => {
          const fail = request.get('x-fail')
          if (fail === 'crash') throw (thrownByAuthorize = new TypeError('db down'))
          if (fail)
            throw (thrownByAuthorize = Object.assign(new Error(request.get('x-message') ?? 'refused'), {
              status: Number(fail),
              expose: true,
            }))
          return { id: 'alice' }
        },
      },
    }
    const app = express()
    for (const [path, options] of Object.entries(mounts)) app.use(path, presignMiddleware(options))
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      hostErrors.push(err)
      res.status(500).json({ code: 'host_error', message: 'the host error handler answered' })
    })
    server = await listen(app as unknown as RequestListener)
  })
  afterAll(async () => {
    await server?.close()
    await t?.cleanup()
  })
  beforeEach(() => {
    hostErrors.length = 0
  })

  const at = (path: string) => `${server.url}${path}`
  const read = async (key: string) =>
    await (await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))).Body!.transformToString()
  const exists = (key: string) =>
    t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key })).then(
      () => true,
      () => false,
    )
  const openUploads = async (key: string) =>
    (await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: key }))).Uploads ?? []

  /** A single upload through the package: create, then PUT the bytes to RGW. */
  async function uploaded(
    mount: string,
    file: { filename: string; contentType: string; body: string },
    user = 'alice',
    headers: Record<string, string> = {},
  ) {
    const created = await call(at(`${mount}/create`), {
      user,
      headers,
      body: { filename: file.filename, contentType: file.contentType, size: Buffer.byteLength(file.body) },
    })
    expect(created.status).toBe(200)
    expect(created.body.strategy).toBe('single')
    expect((await putRaw(created.body.url, { headers: created.body.headers, body: file.body })).status).toBe(200)
    return created.body as { token: string; key: string }
  }

  /** What Uppy does with a `/s3/params` answer: a form POST of `fields` then `file`, or a PUT with `headers`. */
  async function sendAsUppy(
    params: { method?: string; url: string; fields?: Record<string, string>; headers?: Record<string, string> },
    body: string,
    type: string,
  ) {
    if (params.method === 'PUT') return putRaw(params.url, { headers: params.headers ?? {}, body })
    const form = new FormData()
    for (const [name, value] of Object.entries(params.fields ?? {})) form.append(name, value)
    form.append('file', new Blob([body], { type }), 'file.txt')
    const res = await fetch(params.url, { method: 'POST', body: form })
    return { status: res.status, headers: res.headers, text: await res.text() }
  }

  describe('item 4 (§5.12): overwrite: false holds on Uppy’s POST path', () => {
    it('never replaces an existing object through /s3/params + POST when keyFor repeats a key; the caller gets a 4xx', async () => {
      const key = `fixed/${randomUUID()}/name.txt`
      await uploaded('/strict', { filename: 'name.txt', contentType: 'text/plain', body: 'original' }, 'alice', { 'x-key': key })
      expect(await read(key)).toBe('original')

      const params = await call(at('/strict/s3/params?filename=name.txt&type=text%2Fplain'), { user: 'mallory', headers: { 'x-key': key } })
      const statuses = [params.status]
      if (params.status === 200) {
        const sent = await sendAsUppy(params.body, 'replaced by mallory', 'text/plain')
        statuses.push(sent.status)
      } else {
        expect([409, 412]).toContain(params.status)
        expect(params.body.code).toEqual(expect.any(String))
      }
      expect(await read(key)).toBe('original')
      expect(
        statuses.some((s) => s >= 400 && s < 500),
        `answers: ${statuses.join(', ')}`,
      ).toBe(true)
    })

    it('refuses the POST path (409 conflict, naming multipart) whenever keyFor chooses keys and overwrite is false: a policy could be replayed onto a key it names', async () => {
      const params = await call(at('/strict/s3/params?filename=new.txt&type=text%2Fplain'), {
        user: 'alice',
        headers: { 'x-key': `fresh/${randomUUID()}.txt` },
      })
      expect(params.status).toBe(409)
      expect(params.body).toEqual({ code: 'conflict', message: expect.stringMatching(/multipart/) })
    })

    it('the POST policy still caps the size: RGW refuses a body over maxFileSize (400 EntityTooLarge) and accepts one at it', async () => {
      const params = await call(at('/capped/s3/params?filename=capped.txt&type=text%2Fplain'), { user: 'alice' })
      expect(params.status).toBe(200)
      expect(params.body.method).toBe('POST')
      const key: string = params.body.fields.key
      const tooBig = await sendAsUppy(params.body, 'x'.repeat(1001), 'text/plain')
      expect(tooBig.status).toBe(400)
      expect(s3ErrorCode(tooBig.text)).toBe('EntityTooLarge')
      expect(await exists(key)).toBe(false)
      const atLimit = await sendAsUppy(params.body, 'y'.repeat(1000), 'text/plain')
      expect(atLimit.status).toBe(204)
      expect(await read(key)).toBe('y'.repeat(1000))
    })
  })

  describe('item 5 (§5.9): S3 events honour a tag only on the key it was issued for, and never delete outside the key space', () => {
    const events = () =>
      createPresigner<undefined>({
        bucket: t.bucket,
        s3: rgwClientConfig(),
        secret: SECRET,
        authorize: () => false,
        onComplete: eventsDone,
      })

    it('ignores a tagged object copied to another key (ObjectCreated:Copy, :Put, EventBridge CopyObject) and never completes it as the uploader', async () => {
      const { key } = await uploaded('/uploads', { filename: 'report.txt', contentType: 'text/plain', body: 'carol report' }, 'carol')
      const copy = `copies/${randomUUID()}/report.txt`
      await t.client.send(
        new CopyObjectCommand({ Bucket: t.bucket, Key: copy, CopySource: `${t.bucket}/${encodeURI(key)}`, MetadataDirective: 'COPY' }),
      )
      const [original, copied] = await Promise.all(
        [key, copy].map((k) => t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: k }))),
      )
      expect(copied!.Metadata?.['presign-nonce']).toBe(original!.Metadata?.['presign-nonce']) // the tag travelled with the copy
      const bridge = viaEventBridge(t.bucket, copy)
      eventsDone.mockClear()
      const outcomes = [
        ...(await events().handleS3Event(s3Notification(t.bucket, copy, 'ObjectCreated:Copy'))),
        ...(await events().handleS3Event(s3Notification(t.bucket, copy, 'ObjectCreated:Put'))),
        ...(await events().handleS3Event({ ...bridge, detail: { ...bridge.detail, reason: 'CopyObject' } })),
      ]
      expect(outcomes).toEqual([0, 1, 2].map(() => ({ key: copy, status: 'ignored', reason: expect.any(String) })))
      expect(eventsDone).not.toHaveBeenCalled()
      // The object the tag was issued for still completes from its event, as carol's.
      expect(await events().handleS3Event(s3Notification(t.bucket, key))).toEqual([{ key, status: 'completed', result: { handled: key } }])
      expect(eventsDone).toHaveBeenCalledWith(expect.objectContaining({ key, identity: { id: 'carol' }, source: 'event' }))
    })

    it('a second presigner with narrower rules (keyPrefix narrow/, image/png) ignores, and never deletes, a verified object of the first', async () => {
      const { key, token } = await uploaded(
        '/uploads',
        { filename: 'notes.txt', contentType: 'text/plain', body: 'verified notes' },
        'carol',
      )
      expect((await call(at('/uploads/complete'), { user: 'carol', body: { token } })).status).toBe(200)
      expect(key.startsWith('narrow/')).toBe(false)
      const narrowDone = vi.fn()
      const narrow = createPresigner<undefined>({
        bucket: t.bucket,
        s3: rgwClientConfig(),
        secret: SECRET,
        authorize: () => false,
        keyPrefix: 'narrow/',
        allowedContentTypes: ['image/png'],
        onComplete: narrowDone,
      })
      expect(await narrow.handleS3Event(s3Notification(t.bucket, key))).toEqual([{ key, status: 'ignored', reason: expect.any(String) }])
      expect(narrowDone).not.toHaveBeenCalled()
      expect(await read(key)).toBe('verified notes')
    })
  })

  describe('item 6, second half: parts S3 calls too small', () => {
    it('answers Uppy’s complete with a 4xx JSON error, not 502, when RGW refuses the parts (EntityTooSmall), and aborts the upload', async () => {
      const started = await call(at('/uploads/s3/multipart'), {
        user: 'alice',
        body: { filename: 'tiny.bin', type: 'application/octet-stream', metadata: {} },
      })
      expect(started.status).toBe(200)
      const { key, uploadId } = started.body as { key: string; uploadId: string }
      const path = `/uploads/s3/multipart/${encodeURIComponent(uploadId)}`
      const q = `?key=${encodeURIComponent(key)}`
      const parts = []
      for (const n of [1, 2]) {
        const signed = await call(at(`${path}/${n}${q}`), { user: 'alice' })
        const put = await putRaw(signed.body.url, { body: String(n) }) // 1 byte: only a last part may be under 5 MiB
        expect(put.status).toBe(200)
        parts.push({ PartNumber: n, ETag: put.headers.get('etag') })
      }
      const done = await call(at(`${path}/complete${q}`), { user: 'alice', body: { parts } })
      expect(done.status, JSON.stringify(done.body)).toBeGreaterThanOrEqual(400)
      expect(done.status, JSON.stringify(done.body)).toBeLessThan(500)
      expect(done.headers.get('content-type')).toMatch(/^application\/json/)
      expect(done.body).toEqual({ code: expect.any(String), message: expect.any(String) })
      expect(await openUploads(key)).toHaveLength(0)
      expect(await exists(key)).toBe(false)
    })
  })

  describe('item 8 (§5.13): script-capable types', () => {
    it.each(['image/svg+xml', 'image/svg+xml; charset=utf-8', 'IMAGE/SVG+XML'])(
      'refuses %s under allowedContentTypes image/* with 415',
      async (contentType) => {
        const res = await call(at('/images/create'), { user: 'alice', body: { filename: 'x.svg', contentType, size: 10 } })
        expect(res.status).toBe(415)
        expect(res.body.code).toBe('content_type_not_allowed')
      },
    )

    it('refuses image/svg+xml under image/* on Uppy’s /s3/params and /s3/multipart with 415', async () => {
      const params = await call(at('/images/s3/params?filename=x.svg&type=image%2Fsvg%2Bxml'), { user: 'alice' })
      expect(params.status).toBe(415)
      const multipart = await call(at('/images/s3/multipart'), {
        user: 'alice',
        body: { filename: 'x.svg', type: 'image/svg+xml', metadata: {} },
      })
      expect(multipart.status).toBe(415)
    })

    it.each([
      ['/text', 'text/*', 'text/html'],
      ['/apps', 'application/*', 'application/xhtml+xml'],
      ['/apps', 'application/*', 'application/javascript'],
    ])('a wildcard never admits a script-capable type: %s (%s) refuses %s with 415', async (mount, _pattern, contentType) => {
      const res = await call(at(`${mount}/create`), { user: 'alice', body: { filename: 'x', contentType, size: 10 } })
      expect(res.status).toBe(415)
    })

    it('still admits image/png under image/*, and image/svg+xml when it is listed exactly', async () => {
      expect(
        (await call(at('/images/create'), { user: 'alice', body: { filename: 'x.png', contentType: 'image/png', size: 10 } })).status,
      ).toBe(200)
      const svg = await call(at('/images-and-svg/create'), {
        user: 'alice',
        body: { filename: 'x.svg', contentType: 'image/svg+xml', size: 10 },
      })
      expect(svg.status).toBe(200)
      expect(svg.body.headers['content-type']).toBe('image/svg+xml')
    })

    const stored = async (filename: string, contentType: string) => {
      const key = `downloads/${randomUUID()}/${filename}`
      await t.client.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: `content of ${filename}`, ContentType: contentType }))
      return key
    }

    it.each([
      ['page.html', 'text/html'],
      ['drawing.svg', 'image/svg+xml'],
      ['page.xhtml', 'application/xhtml+xml'],
      ['data.xml', 'text/xml'],
      ['app.js', 'application/javascript'],
    ])(
      'presigns the download of %s (stored as %s) as an attachment, and RGW answers Content-Disposition: attachment',
      async (filename, contentType) => {
        const key = await stored(filename, contentType)
        const posted = await call(at('/uploads/download'), { user: 'alice', body: { key } })
        expect(posted.status).toBe(200)
        const redirected = await call(at(`/uploads/download?key=${encodeURIComponent(key)}`), { user: 'alice' })
        expect(redirected.status).toBe(302)
        for (const url of [posted.body.url as string, redirected.headers.get('location')!]) {
          expect(url).toMatch(/[?&]response-content-disposition=attachment/)
          const res = await fetch(url)
          expect(res.status).toBe(200)
          expect(res.headers.get('content-disposition')).toMatch(/^attachment/i)
          expect(await res.text()).toBe(`content of ${filename}`)
        }
      },
    )

    it('presigns the download of an image/png without a forced disposition', async () => {
      const key = await stored('photo.png', 'image/png')
      const posted = await call(at('/uploads/download'), { user: 'alice', body: { key } })
      expect(posted.status).toBe(200)
      expect(posted.body.url).not.toMatch(/[?&]response-content-disposition=/)
      const res = await fetch(posted.body.url)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-disposition') ?? '').not.toMatch(/attachment/i)
    })
  })

  describe('item 9 (§5.12): an object refused by onComplete is removed', () => {
    async function refusedSingle() {
      const { key, token } = await uploaded('/scan', { filename: 'eicar.txt', contentType: 'text/plain', body: 'infected' })
      return { key, done: await call(at('/scan/complete'), { user: 'alice', body: { token } }) }
    }
    async function refusedMultipart() {
      const created = await call(at('/scan/create'), {
        user: 'alice',
        body: { filename: 'eicar.bin', contentType: 'application/octet-stream', size: 2000 },
      })
      expect(created.body.strategy).toBe('multipart')
      const { parts } = (await call(at('/scan/sign-parts'), { user: 'alice', body: { token: created.body.token, partNumbers: [1] } })).body
      const put = await putRaw(parts[0].url, { headers: parts[0].headers, body: 'v'.repeat(2000) })
      expect(put.status).toBe(200)
      const done = await call(at('/scan/complete'), {
        user: 'alice',
        body: { token: created.body.token, parts: [{ partNumber: 1, etag: put.headers.get('etag') }] },
      })
      return { key: created.body.key as string, done }
    }
    async function refusedUppy() {
      const { key, uploadId } = (
        await call(at('/scan/s3/multipart'), {
          user: 'alice',
          body: { filename: 'eicar.bin', type: 'application/octet-stream', metadata: {} },
        })
      ).body
      const path = `/scan/s3/multipart/${encodeURIComponent(uploadId)}`
      const q = `?key=${encodeURIComponent(key)}`
      const put = await putRaw((await call(at(`${path}/1${q}`), { user: 'alice' })).body.url, { body: 'infected' })
      expect(put.status).toBe(200)
      return {
        key: key as string,
        done: await call(at(`${path}/complete${q}`), {
          user: 'alice',
          body: { parts: [{ PartNumber: 1, ETag: put.headers.get('etag') }] },
        }),
      }
    }

    it.each([
      ['a single upload', refusedSingle],
      ['a multipart upload', refusedMultipart],
      ['an Uppy multipart upload', refusedUppy],
    ])('answers 422 with the message of a PresignError thrown by onComplete and removes the object (%s)', async (_name, refused) => {
      const { key, done } = await refused()
      expect(done.status).toBe(422)
      expect(done.body).toEqual({ code: 'verification_failed', message: 'virus found' })
      expect(await exists(key)).toBe(false)
      expect(hostErrors).toEqual([])
    })

    it('passes a plain Error thrown by onComplete to the host error handler and keeps the object', async () => {
      const { key, token } = await uploaded('/crash', { filename: 'fine.txt', contentType: 'text/plain', body: 'fine' })
      const done = await call(at('/crash/complete'), { user: 'alice', body: { token } })
      expect(done.status).toBe(500)
      expect(done.body.code).toBe('host_error')
      expect(hostErrors).toEqual([expect.objectContaining({ message: 'scanner crashed' })])
      expect(await read(key)).toBe('fine')
    })
  })

  describe('item 10: errors thrown by authorize keep their meaning', () => {
    it.each([
      [400, 'Choose an album first.', '/create'],
      [404, 'No such album.', '/create'],
      [409, 'This album is locked.', '/create'],
      [429, 'slow down', '/create'],
      [404, 'No such file.', '/download'],
      [429, 'slow down', '/download'],
    ])(
      'answers a thrown { status: %i, expose: true } with that status and its message as JSON (%s, %s)',
      async (status, message, route) => {
        const body = route === '/create' ? { filename: 'a.txt', contentType: 'text/plain', size: 1 } : { key: 'some/key.txt' }
        const res = await call(at(`/auth${route}`), { headers: { 'x-fail': String(status), 'x-message': message }, body })
        expect(res.status).toBe(status)
        expect(res.headers.get('content-type')).toMatch(/^application\/json/)
        expect(res.body).toEqual({ code: expect.any(String), message })
        expect(hostErrors).toEqual([])
      },
    )

    /** The error the host saw is the one authorize threw, or carries it as `cause`. */
    const sawThrown = () => hostErrors.some((e) => e === thrownByAuthorize || (e as { cause?: unknown })?.cause === thrownByAuthorize)

    it('passes a TypeError thrown by authorize to the host error handler, never a 403 (create)', async () => {
      const res = await call(at('/auth/create'), {
        headers: { 'x-fail': 'crash' },
        body: { filename: 'a.txt', contentType: 'text/plain', size: 1 },
      })
      expect(res.status).not.toBe(403)
      expect(res.body.code).toBe('host_error')
      expect(thrownByAuthorize).toBeInstanceOf(TypeError)
      expect(sawThrown()).toBe(true)
    })

    it('passes a TypeError thrown by authorize to the host error handler, never a 403 (complete of a started upload)', async () => {
      const created = await call(at('/auth/create'), { body: { filename: 'a.txt', contentType: 'text/plain', size: 1 } })
      expect(created.status).toBe(200)
      const res = await call(at('/auth/complete'), { headers: { 'x-fail': 'crash' }, body: { token: created.body.token } })
      expect(res.status).not.toBe(403)
      expect(res.body.code).toBe('host_error')
      expect(sawThrown()).toBe(true)
    })
  })
})
