import { HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import express, { type Request } from 'express'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import { createPresigner } from '../../src/index'
import { createTestBucket, describeRgw, putRaw, rgwClientConfig, type TestBucket } from '../helpers/rgw'
import { listen } from '../helpers/targets'
import { callApp } from '../helpers/app-call'

/**
 * Issue 13 (SPEC §3 `routes`, rules per request, §4.1 `/delete`, §5.9): named upload kinds in one
 * mount, a bucket per tenant, a size limit per plan, and deletes, against Ceph RGW. The app's
 * login is the `x-user` header: `<id>:<tenant>:<plan>`.
 */

const SECRET = 'routes-secret-0123456789abcdef'

interface User {
  id: string
  tenant: string
  plan: 'free' | 'pro'
}

function userOf(request: Request): User | false {
  const [id, tenant = 'a', plan = 'free'] = (request.get('x-user') ?? '').split(':')
  return id ? { id, tenant, plan: plan === 'pro' ? 'pro' : 'free' } : false
}

/** One call as `user`, its status and body: the shared test-app call (test/helpers/app-call.ts). */
async function call(url: string, user: string | undefined, body?: unknown, method?: string) {
  const { status, body: answer } = await callApp(url, {
    ...(user ? { user } : {}),
    ...(body === undefined ? {} : { body }),
    ...(method ? { method } : {}),
  })
  return { status, body: answer }
}

const bytes = (n: number) => new Uint8Array(n).fill(97)

describeRgw('issue 13: upload routes, rules per request and delete (RGW)', () => {
  let tenantA: TestBucket
  let tenantB: TestBucket
  let server: { url: string; close: () => Promise<void> }
  const onAvatar = vi.fn(({ key }: { key: string }) => ({ avatar: key }))
  const onDocument = vi.fn(({ key, bucket }: { key: string; bucket: string }) => ({ document: key, bucket }))

  beforeAll(async () => {
    tenantA = await createTestBucket('routes-a')
    tenantB = await createTestBucket('routes-b')
    const app = express()
    app.use(
      '/uploads',
      presignMiddleware<User, unknown>({
        secret: SECRET,
        s3: rgwClientConfig(),
        authorize: ({ request }) => userOf(request),
        // A bucket per tenant, and a size limit per plan: rules given as functions of the request.
        bucket: ({ identity }) => (identity.tenant === 'b' ? tenantB.bucket : tenantA.bucket),
        maxFileSize: ({ identity }) => (identity.plan === 'pro' ? 2000 : 1000),
        routes: {
          avatar: { allowedContentTypes: ['image/*'], keyPrefix: 'avatars/', onComplete: onAvatar },
          document: { allowedContentTypes: ['application/pdf', 'text/plain'], keyPrefix: 'docs/', onComplete: onDocument },
        },
      }),
    )
    app.use((_req, res) => void res.status(404).json({ code: 'host_not_found' }))
    server = await listen(app)
  })
  afterAll(async () => {
    await server?.close()
    await tenantA?.cleanup()
    await tenantB?.cleanup()
  })

  const at = (path: string) => `${server.url}/uploads${path}`

  async function uploaded(route: string, user: string, file: { filename: string; contentType: string; size: number }) {
    const created = await call(at(`/${route}/create`), user, file)
    expect(created.status).toBe(200)
    expect((await putRaw(created.body.url, { headers: created.body.headers, body: bytes(file.size) })).status).toBe(200)
    return created.body
  }

  it('serves every route under /<name>/ and nothing at the mount itself', async () => {
    expect((await call(at('/create'), 'ann:a', { filename: 'a.png', contentType: 'image/png', size: 10 })).status).toBe(404)
    expect((await call(at('/nope/create'), 'ann:a', { filename: 'a.png', contentType: 'image/png', size: 10 })).body).toEqual({
      code: 'host_not_found',
    })
    const avatar = await call(at('/avatar/create'), 'ann:a', { filename: 'a.png', contentType: 'image/png', size: 10 })
    expect(avatar.status).toBe(200)
    expect(avatar.body.key).toMatch(/^avatars\//)
  })

  it("applies each route's own rules: the avatar takes images only, the document PDFs and text", async () => {
    expect((await call(at('/avatar/create'), 'ann:a', { filename: 'a.pdf', contentType: 'application/pdf', size: 10 })).status).toBe(415)
    expect((await call(at('/document/create'), 'ann:a', { filename: 'a.png', contentType: 'image/png', size: 10 })).status).toBe(415)
    const doc = await uploaded('document', 'ann:a', { filename: 'notes.txt', contentType: 'text/plain', size: 20 })
    const done = await call(at('/document/complete'), 'ann:a', { token: doc.token })
    expect(done.status).toBe(200)
    expect(done.body.result).toEqual({ document: doc.key, bucket: tenantA.bucket })
    expect(onAvatar).not.toHaveBeenCalled()
  })

  it('refuses a token of one route at another (403), and never runs the other route’s onComplete', async () => {
    const avatar = await uploaded('avatar', 'ann:a', { filename: 'me.png', contentType: 'image/png', size: 30 })
    onDocument.mockClear()
    const crossed = await call(at('/document/complete'), 'ann:a', { token: avatar.token })
    expect(crossed.status).toBe(403)
    expect(crossed.body.code).toBe('invalid_token')
    expect(onDocument).not.toHaveBeenCalled()
    expect((await call(at('/avatar/complete'), 'ann:a', { token: avatar.token })).status).toBe(200)
  })

  it('refuses an Uppy uploadId of one route at another, and serves Uppy under /<name>/s3/', async () => {
    const started = await call(at('/avatar/s3/multipart'), 'ann:a', { filename: 'big.png', type: 'image/png', metadata: {} })
    expect(started.status).toBe(200)
    const { uploadId, key } = started.body
    const part = (route: string) =>
      call(at(`/${route}/s3/multipart/${encodeURIComponent(uploadId)}/1?key=${encodeURIComponent(key)}`), 'ann:a')
    expect((await part('document')).status).toBe(403)
    expect((await part('avatar')).status).toBe(200)
    const params = await call(at('/document/s3/params?filename=x.pdf&type=application%2Fpdf'), 'ann:a')
    expect(params.status).toBe(200)
    expect(params.body.fields.key).toMatch(/^docs\//)
    expect(
      (await call(at(`/avatar/s3/multipart/${encodeURIComponent(uploadId)}?key=${encodeURIComponent(key)}`), 'ann:a', undefined, 'DELETE'))
        .status,
    ).toBe(200)
  })

  it('puts each tenant’s uploads in its own bucket, and a token stays bound to the bucket it was issued for', async () => {
    const a = await uploaded('avatar', 'ann:a', { filename: 'a.png', contentType: 'image/png', size: 40 })
    const b = await uploaded('avatar', 'bob:b', { filename: 'b.png', contentType: 'image/png', size: 50 })
    expect((await tenantA.client.send(new HeadObjectCommand({ Bucket: tenantA.bucket, Key: a.key }))).ContentLength).toBe(40)
    expect((await tenantB.client.send(new HeadObjectCommand({ Bucket: tenantB.bucket, Key: b.key }))).ContentLength).toBe(50)
    await expect(tenantA.client.send(new HeadObjectCommand({ Bucket: tenantA.bucket, Key: b.key }))).rejects.toThrow()
    // Another user of another tenant cannot use the token (bound to its identity), and the
    // completion runs in the bucket the token names.
    expect((await call(at('/avatar/complete'), 'bob:b', { token: a.token })).status).toBe(403)
    const done = await call(at('/avatar/complete'), 'bob:b', { token: b.token })
    expect(done.status).toBe(200)
  })

  it('enforces a size limit per plan with the length S3 itself checks (signed Content-Length)', async () => {
    expect((await call(at('/document/create'), 'fay:a:free', { filename: 'f.txt', contentType: 'text/plain', size: 1500 })).status).toBe(
      413,
    )
    const free = await call(at('/document/create'), 'fay:a:free', { filename: 'f.txt', contentType: 'text/plain', size: 1000 })
    expect(free.status).toBe(200)
    // One byte more than signed: RGW refuses it (403 SignatureDoesNotMatch).
    expect((await putRaw(free.body.url, { headers: free.body.headers, body: bytes(1001) })).status).toBe(403)
    const pro = await uploaded('document', 'pat:a:pro', { filename: 'p.txt', contentType: 'text/plain', size: 1500 })
    expect((await call(at('/document/complete'), 'pat:a:pro', { token: pro.token })).status).toBe(200)
  })

  it('seals the rules at create: a multipart upload of a pro user keeps its limit at every later step', async () => {
    const started = await call(at('/document/s3/multipart'), 'pat:a:pro', { filename: 'm.txt', type: 'text/plain', metadata: {} })
    expect(started.status).toBe(200)
    const { uploadId, key } = started.body
    // Uppy declares no size: the part-number limit comes from the sealed maxFileSize (2000 → 1 part).
    const second = await call(at(`/document/s3/multipart/${encodeURIComponent(uploadId)}/2?key=${encodeURIComponent(key)}`), 'pat:a:pro')
    expect(second.status).toBe(400)
    await call(
      at(`/document/s3/multipart/${encodeURIComponent(uploadId)}?key=${encodeURIComponent(key)}`),
      'pat:a:pro',
      undefined,
      'DELETE',
    )
    const open = await tenantA.client.send(new ListMultipartUploadsCommand({ Bucket: tenantA.bucket }))
    expect((open.Uploads ?? []).filter((u) => u.Key === key)).toEqual([])
  })

  it('deletes an object once authorize allows `delete` for its key, only its uploader’s and only within the route', async () => {
    const doc = await uploaded('document', 'ann:a', { filename: 'gone.txt', contentType: 'text/plain', size: 5 })
    expect((await call(at('/document/delete'), undefined, { key: doc.key })).status).toBe(403)
    expect((await call(at('/avatar/delete'), 'ann:a', { key: doc.key })).status).toBe(403)
    expect((await call(at('/document/delete'), 'ann:a', { key: '../docs/x' })).status).toBe(400)
    // Outside the route's keyPrefix: 403 before S3 is asked, whether or not an object is there.
    expect(await call(at('/document/delete'), 'ann:a', { key: 'avatars/nothing-here.png' })).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    })
    // authorize allows everyone signed in: still, only the uploader deletes, and only what came through here.
    expect((await call(at('/document/delete'), 'bea:a', { key: doc.key })).status).toBe(403)
    await tenantA.client.send(new PutObjectCommand({ Bucket: tenantA.bucket, Key: 'docs/site-config.json', Body: '{}' }))
    expect((await call(at('/document/delete'), 'ann:a', { key: 'docs/site-config.json' })).status).toBe(403)
    expect((await tenantA.client.send(new HeadObjectCommand({ Bucket: tenantA.bucket, Key: 'docs/site-config.json' }))).ContentLength).toBe(
      2,
    )
    const deleted = await call(at('/document/delete'), 'ann:a', { key: doc.key })
    expect(deleted).toEqual({ status: 200, body: {} })
    await expect(tenantA.client.send(new HeadObjectCommand({ Bucket: tenantA.bucket, Key: doc.key }))).rejects.toThrow()
    expect(await call(at('/document/delete'), 'ann:a', { key: doc.key })).toEqual({ status: 200, body: {} })
  })

  it('lets server code delete within a route’s key space with presigner.route(name).delete(key)', async () => {
    const presigner = createPresigner<Request, User>({
      secret: SECRET,
      s3: rgwClientConfig(),
      bucket: tenantA.bucket,
      authorize: () => false,
      routes: { document: { keyPrefix: 'docs/' } },
    })
    const doc = await uploaded('document', 'ann:a', { filename: 'server.txt', contentType: 'text/plain', size: 5 })
    await expect(presigner.route('document').delete('avatars/x.png')).rejects.toThrow(/outside/)
    await presigner.route('document').delete(doc.key)
    await expect(tenantA.client.send(new HeadObjectCommand({ Bucket: tenantA.bucket, Key: doc.key }))).rejects.toThrow()
    expect(() => presigner.create({}, undefined as unknown as Request)).toThrow(/route/)
  })
})
