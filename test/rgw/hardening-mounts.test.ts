import { randomUUID } from 'node:crypto'
import type { RequestListener } from 'node:http'
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import express, { type NextFunction, type Request, type Response } from 'express'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import type { PresignOptions } from '../../src/index'
import { createTestBucket, describeRgw, putRaw, rgwClientConfig } from '../helpers/rgw'
import { listen } from '../helpers/targets'
import { type Answer, callApp } from '../helpers/app-call'

/**
 * Issue 9, item 1 (SPEC §5.9): two mounts of one app share `secret` and bucket, as apps do
 * with one `PRESIGN_SECRET`. `/files` takes any type and never overwrites; `/avatars` takes
 * `image/*` only, overwrites, and has its own `onComplete`. A token, an Uppy uploadId and a
 * key are honoured only by the mount that issued them. Express 5 on a loopback port, every
 * presigned URL driven with fetch against Ceph RGW.
 */

const SECRET = 'hardening-mounts-secret-0123456789'

/** One JSON call as the user `user`; `key` is the `x-key` header through which the app's keyFor picks a key. */
const call = (url: string, { key, ...init }: { method?: string; user?: string; key?: string; body?: unknown } = {}): Promise<Answer> =>
  callApp(url, { ...init, ...(key ? { headers: { 'x-key': key } } : {}) })

const authorize = ({ request }: { request: Request }) => {
  const id = request.get('x-user')
  return id ? { id } : false
}

/** The app chooses the key from `x-key` when a test needs a known one (e.g. an existing object). */
const keyFor = ({ request, file }: { request: Request; file: { filename: string } }) =>
  request.get('x-key') ?? `${randomUUID()}/${file.filename}`

describeRgw('issue 9 item 1: tokens, uploadIds and keys are bound to the mount that issued them (RGW)', () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>
  let server: { url: string; close: () => Promise<void> }
  const filesDone = vi.fn((ctx: { key: string }) => ({ mount: 'files', key: ctx.key }))
  const avatarsDone = vi.fn((ctx: { key: string }) => ({ mount: 'avatars', key: ctx.key }))

  beforeAll(async () => {
    t = await createTestBucket('hardening-mounts')
    // Uploads over 1 KiB go multipart (one part of up to 5 MiB: S3 accepts a small last part).
    const shared = { bucket: t.bucket, s3: rgwClientConfig(), secret: SECRET, authorize, keyFor, multipart: { threshold: 1024 } }
    const files: PresignOptions<Request, { id: string }, unknown> = { ...shared, overwrite: false, onComplete: filesDone }
    const avatars: PresignOptions<Request, { id: string }, unknown> = {
      ...shared,
      allowedContentTypes: ['image/*'],
      overwrite: true,
      onComplete: avatarsDone,
    }
    const app = express()
    app.use('/files', presignMiddleware(files))
    app.use('/avatars', presignMiddleware(avatars))
    // The same rules as /files, another onComplete: only the mount tells them apart.
    app.use('/twin', presignMiddleware({ ...files, onComplete: avatarsDone }))
    app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ code: 'host_error', message: 'host error handler' })
    })
    server = await listen(app as unknown as RequestListener)
  })
  afterAll(async () => {
    await server?.close()
    await t?.cleanup()
  })

  const at = (path: string) => `${server.url}${path}`
  const read = async (key: string) =>
    await (await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))).Body!.transformToString()
  const openUploads = async (key: string) =>
    (await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: key }))).Uploads ?? []

  /** A native multipart upload at `/files` (one part, really on RGW), ready to complete. */
  async function filesMultipart(user: string, contentType: string, key?: string) {
    const body = 'm'.repeat(2000)
    const created = await call(at('/files/create'), {
      user,
      ...(key ? { key } : {}),
      body: { filename: 'page.html', contentType, size: body.length },
    })
    expect(created.status).toBe(200)
    expect(created.body.strategy).toBe('multipart')
    const signed = await call(at('/files/sign-parts'), { user, body: { token: created.body.token, partNumbers: [1] } })
    expect(signed.status).toBe(200)
    const put = await putRaw(signed.body.parts[0].url, { headers: signed.body.parts[0].headers, body })
    expect(put.status).toBe(200)
    return {
      token: created.body.token as string,
      key: created.body.key as string,
      body,
      parts: [{ partNumber: 1, etag: put.headers.get('etag') }],
    }
  }

  it('refuses at /avatars (403) a single-upload token issued by /files, and never runs /avatars onComplete', async () => {
    const created = await call(at('/files/create'), { user: 'alice', body: { filename: 'page.html', contentType: 'text/html', size: 25 } })
    expect(created.status).toBe(200)
    expect((await putRaw(created.body.url, { headers: created.body.headers, body: '<script>alert(1)</script>' })).status).toBe(200)
    avatarsDone.mockClear()
    const done = await call(at('/avatars/complete'), { user: 'alice', body: { token: created.body.token } })
    expect({ status: done.status, code: typeof done.body.code }).toEqual({ status: 403, code: 'string' })
    expect(avatarsDone).not.toHaveBeenCalled()
    // The token still works where it was issued, and its object was left alone.
    const own = await call(at('/files/complete'), { user: 'alice', body: { token: created.body.token } })
    expect(own.status).toBe(200)
    expect(own.body.result).toEqual({ mount: 'files', key: created.body.key })
  })

  it.each([
    ['/sign-parts', (token: string) => ({ token, partNumbers: [1] })],
    ['/list-parts', (token: string) => ({ token })],
    ['/abort', (token: string) => ({ token })],
    ['/complete', (token: string, parts: unknown) => ({ token, parts })],
  ])(
    'refuses at /avatars%s (403) a multipart token issued by /files; the upload stays open and completes at /files',
    async (route, body) => {
      const up = await filesMultipart('alice', 'text/html')
      avatarsDone.mockClear()
      const res = await call(at(`/avatars${route}`), { user: 'alice', body: body(up.token, up.parts) })
      expect({ status: res.status, code: typeof res.body.code }).toEqual({ status: 403, code: 'string' })
      expect(avatarsDone).not.toHaveBeenCalled()
      expect(await openUploads(up.key)).toHaveLength(1)
      await expect(t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: up.key }))).rejects.toThrow()
      const own = await call(at('/files/complete'), { user: 'alice', body: { token: up.token, parts: up.parts } })
      expect(own.status).toBe(200)
      expect(await read(up.key)).toBe(up.body)
    },
  )

  /** An Uppy multipart upload at `from` with its one part on RGW, ready to complete. */
  async function uppyMultipart(from: string, type: string) {
    const started = await call(at(`${from}/s3/multipart`), { user: 'alice', body: { filename: 'u.bin', type, metadata: {} } })
    expect(started.status).toBe(200)
    const { key, uploadId } = started.body as { key: string; uploadId: string }
    const path = `/s3/multipart/${encodeURIComponent(uploadId)}`
    const q = `?key=${encodeURIComponent(key)}`
    const signed = await call(at(`${from}${path}/1${q}`), { user: 'alice' })
    expect(signed.status).toBe(200)
    const put = await putRaw(signed.body.url, { body: 'uppy part' })
    expect(put.status).toBe(200)
    return { key, path, q, parts: [{ PartNumber: 1, ETag: put.headers.get('etag') }] }
  }

  const uppyRoutes: Array<[string, (up: Awaited<ReturnType<typeof uppyMultipart>>) => { method: string; path: string; body?: unknown }]> = [
    ['GET :uploadId/:partNumber (sign)', (up) => ({ method: 'GET', path: `${up.path}/1${up.q}` })],
    ['GET :uploadId (list)', (up) => ({ method: 'GET', path: `${up.path}${up.q}` })],
    ['POST :uploadId/complete', (up) => ({ method: 'POST', path: `${up.path}/complete${up.q}`, body: { parts: up.parts } })],
    ['DELETE :uploadId (abort)', (up) => ({ method: 'DELETE', path: `${up.path}${up.q}` })],
  ]
  const directions: Array<[string, string, string]> = [
    ['/files', '/avatars', 'text/html'],
    ['/avatars', '/files', 'image/png'],
  ]

  it.each(directions.flatMap(([from, to, type]) => uppyRoutes.map(([name, route]) => [from, to, type, name, route] as const)))(
    'refuses an Uppy uploadId issued by %s at %s (a %s upload; %s) with 403; it completes where it was issued',
    async (from, to, type, _name, route) => {
      const up = await uppyMultipart(from, type)
      filesDone.mockClear()
      avatarsDone.mockClear()
      const { method, path, body } = route(up)
      const res = await call(at(`${to}${path}`), { method, user: 'alice', ...(body ? { body } : {}) })
      expect({ status: res.status, code: typeof res.body?.code }).toEqual({ status: 403, code: 'string' })
      expect(filesDone).not.toHaveBeenCalled()
      expect(avatarsDone).not.toHaveBeenCalled()
      expect(await openUploads(up.key)).toHaveLength(1)
      const own = await call(at(`${from}${up.path}/complete${up.q}`), { user: 'alice', body: { parts: up.parts } })
      expect(own.status).toBe(200)
      expect(await read(up.key)).toBe('uppy part')
    },
  )

  it.each(uppyRoutes)(
    "refuses (403) an Uppy ?key= that is not the uploadId's own, even another upload of the same user (%s)",
    async (_name, route) => {
      const up = await uppyMultipart('/files', 'text/plain')
      const other = await uppyMultipart('/files', 'text/plain')
      const { method, path, body } = route({ ...up, q: `?key=${encodeURIComponent(other.key)}` })
      const res = await call(at(`/files${path}`), { method, user: 'alice', ...(body ? { body } : {}) })
      expect({ status: res.status, code: typeof res.body?.code }).toEqual({ status: 403, code: 'string' })
      expect(await openUploads(up.key)).toHaveLength(1)
      expect(await openUploads(other.key)).toHaveLength(1)
      await expect(t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: other.key }))).rejects.toThrow()
    },
  )

  it('never completes through the overwrite: true mount a /files multipart upload onto an existing key; the original bytes stay', async () => {
    const key = `shared/${randomUUID()}.png`
    const original = await call(at('/files/create'), { user: 'alice', key, body: { filename: 'a.png', contentType: 'image/png', size: 8 } })
    expect((await putRaw(original.body.url, { headers: original.body.headers, body: 'original' })).status).toBe(200)
    expect((await call(at('/files/complete'), { user: 'alice', body: { token: original.body.token } })).status).toBe(200)
    // bob starts at /files (overwrite: false) onto alice's key: image/png, so /avatars' type rule cannot be what refuses.
    const up = await filesMultipart('bob', 'image/png', key)
    avatarsDone.mockClear()
    const res = await call(at('/avatars/complete'), { user: 'bob', body: { token: up.token, parts: up.parts } })
    expect([403, 412]).toContain(res.status)
    expect(avatarsDone).not.toHaveBeenCalled()
    expect(await read(key)).toBe('original')
    // The rule sealed at /files is the one that applies: its own complete refuses too.
    const own = await call(at('/files/complete'), { user: 'bob', body: { token: up.token, parts: up.parts } })
    expect(own.status).toBe(412)
    expect(own.body.code).toBe('already_exists')
    expect(await read(key)).toBe('original')
  })
  it('refuses at a mount with the very same rules (403) a token issued by another mount, and never runs its onComplete', async () => {
    const body = 'same rules'
    const created = await call(at('/files/create'), {
      user: 'alice',
      body: { filename: 'a.txt', contentType: 'text/plain', size: body.length },
    })
    expect(created.status).toBe(200)
    expect((await putRaw(created.body.url, { headers: created.body.headers, body })).status).toBe(200)
    avatarsDone.mockClear()
    const crossed = await call(at('/twin/complete'), { user: 'alice', body: { token: created.body.token } })
    expect(crossed.status).toBe(403)
    expect(crossed.body.code).toBe('invalid_token')
    expect(avatarsDone).not.toHaveBeenCalled()
    expect((await call(at('/files/complete'), { user: 'alice', body: { token: created.body.token } })).status).toBe(200)
  })

  it("refuses a single upload's token on Uppy's DELETE (400): without an upload id S3 would take the abort as a DeleteObject", async () => {
    const body = 'kept'
    const created = await call(at('/files/create'), {
      user: 'alice',
      body: { filename: 'k.txt', contentType: 'text/plain', size: body.length },
    })
    expect((await putRaw(created.body.url, { headers: created.body.headers, body })).status).toBe(200)
    expect((await call(at('/files/complete'), { user: 'alice', body: { token: created.body.token } })).status).toBe(200)
    const id = encodeURIComponent(created.body.token)
    const key = encodeURIComponent(created.body.key)
    const res = await call(at(`/files/s3/multipart/${id}?key=${key}`), { user: 'alice', method: 'DELETE' })
    expect(res.status).toBe(400)
    expect(await read(created.body.key)).toBe(body)
  })

  it('passes on a path with a trailing slash instead of serving it as the route (SPEC §5.11)', async () => {
    const res = await call(at('/files/create/'), { user: 'alice', body: { filename: 'x.txt', contentType: 'text/plain', size: 1 } })
    expect(res.status).toBe(404)
    expect((await call(at('/files/download/?key=a.txt'), { user: 'alice' })).status).toBe(404)
    expect((await call(at('/files/s3/params/?filename=a.txt&type=text%2Fplain'), { user: 'alice' })).status).toBe(404)
  })
})
