import { randomBytes } from 'node:crypto'
import { type Context, Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createFetchHandler } from '../../src/adapters/fetch'
import { uploadFile } from '../../src/client'
import type { Action } from '../../src'
import { RGW_ENDPOINT, RGW_REGION, type TestBucket, createTestBucket, describeRgw, rgwClientConfig } from '../helpers/rgw'

/**
 * The fetch adapter as a Hono handler (`app.all('/uploads/*', uploads)`): hooks get Hono's Context
 * as `ctx.request`, so the user an auth middleware set (`c.set('user', ...)`) is what `authorize`
 * returns, typed through the app's `Variables`. Uploads go to Ceph RGW.
 */

const MiB = 1024 * 1024

interface RunningExample {
  url: string
  close(): Promise<void>
}

describeRgw('the Hono example (examples/hono) on RGW', () => {
  let t: TestBucket
  let app: RunningExample

  beforeAll(async () => {
    t = await createTestBucket('hono-example')
    const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
    vi.stubEnv('S3_ENDPOINT', RGW_ENDPOINT)
    vi.stubEnv('S3_REGION', RGW_REGION)
    vi.stubEnv('S3_BUCKET', t.bucket)
    vi.stubEnv('S3_ACCESS_KEY_ID', credentials.accessKeyId)
    vi.stubEnv('S3_SECRET_ACCESS_KEY', credentials.secretAccessKey)
    // The example prints the doctor command for an existing bucket: this one already has CORS.
    vi.spyOn(console, 'log').mockImplementation(() => {})
    const example = (await import(new URL('../../examples/hono/server.mjs', import.meta.url).href)) as {
      start(options: { port: number }): Promise<RunningExample>
    }
    app = await example.start({ port: 0 })
  })

  afterAll(async () => {
    await app?.close()
    await t?.cleanup()
    vi.unstubAllEnvs()
    vi.restoreAllMocks()
  })

  it.each([
    ['a single PUT', 64 * 1024],
    ['a two-part multipart upload (over its 8 MiB threshold)', 9 * MiB],
  ])('uploads %s with the client through the Hono handler; onComplete sees the user its middleware set', async (_, size) => {
    const bytes = randomBytes(size)
    const done = await uploadFile(new Blob([bytes], { type: 'application/octet-stream' }), {
      endpoint: `${app.url}/uploads`,
      name: 'data.bin',
    })
    const result = done.result as { downloadUrl: string; owner: string }
    expect(result).toEqual({ downloadUrl: `/uploads/download?key=${encodeURIComponent(done.key)}`, owner: 'demo-user' })
    expect(done.size).toBe(size)

    const redirect = await fetch(`${app.url}${result.downloadUrl}`, { redirect: 'manual' })
    expect(redirect.status).toBe(302)
    const location = redirect.headers.get('location')!
    expect(location.startsWith(`${RGW_ENDPOINT}/${t.bucket}/`)).toBe(true)
    const download = await fetch(location)
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true)
  })
})

interface User {
  id: string
  plan: 'free' | 'pro'
}
type Env = { Variables: { user: User | undefined } }

const USERS: Record<string, User> = {
  'token-alice': { id: 'alice', plan: 'pro' },
  'token-bob': { id: 'bob', plan: 'free' },
}
const SECRET = 'hono-context-secret-0123456789'

describeRgw('hooks get the Hono Context (typed Variables) through the fetch handler, on RGW', () => {
  let t: TestBucket
  const app = new Hono<Env>()
  const asked: Array<{ action: Action; user: string | undefined; path: string }> = []
  const rawRequests: unknown[] = []

  beforeAll(async () => {
    t = await createTestBucket('hono-context')
    // The app's auth middleware: the user of a bearer token, or none.
    app.use('*', async (c, next) => {
      c.set('user', USERS[c.req.header('authorization')?.replace(/^Bearer /, '') ?? ''])
      await next()
    })
    const mount = (prefix: string) =>
      createFetchHandler({
        prefix,
        bucket: t.bucket,
        s3: rgwClientConfig(),
        secret: SECRET,
        authorize: ({ request: c, action }: { request: Context<Env>; action: Action }) => {
          asked.push({ action, user: c.get('user')?.id, path: c.req.path })
          return c.get('user') ?? false
        },
        keyFor: ({ identity, file }) => `users/${identity.id}/${file.filename}`,
        maxFileSize: ({ identity }) => (identity.plan === 'pro' ? 10 * MiB : 1000),
        onComplete: ({ identity, request }) => ({ owner: identity.id, plan: request?.get('user')?.plan }),
      })
    const uploads = mount('/uploads')
    app.all('/uploads/*', uploads)
    app.all('/other/*', mount('/other'))
    // The Request alone, as before: hooks then get the Request.
    const raw = createFetchHandler({
      prefix: '/raw',
      bucket: t.bucket,
      s3: rgwClientConfig(),
      secret: SECRET,
      authorize: ({ request }) => {
        rawRequests.push(request)
        return true
      },
    })
    app.all('/raw/*', (c) => raw(c.req.raw))
  })

  afterAll(async () => {
    await t?.cleanup()
  })

  /** A call to the app in-process, as `token`'s holder. */
  async function call(path: string, body: unknown, token?: string) {
    const res = await app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as Record<string, any> }
  }

  /** `create` then the PUT to RGW, as `token`'s holder: the token to complete with. */
  async function started(prefix: string, token: string, bytes: Buffer, filename = 'notes.txt') {
    const created = await call(`${prefix}/create`, { filename, contentType: 'text/plain', size: bytes.length }, token)
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    const put = await fetch(created.body.url, { method: 'PUT', headers: created.body.headers, body: new Uint8Array(bytes) })
    expect(put.status).toBe(200)
    return created.body as { token: string; key: string }
  }

  it("uploads to RGW as the user the auth middleware set: authorize reads c.get('user'), keyFor and maxFileSize see that user, onComplete the Context", async () => {
    asked.length = 0
    const bytes = randomBytes(5000) // over the free plan's 1000 bytes: only a pro user may
    const done = await uploadFile(new Blob([bytes], { type: 'text/plain' }), {
      endpoint: 'http://app.test/uploads',
      name: 'notes.txt',
      headers: { authorization: 'Bearer token-alice' },
      fetch: ((input: RequestInfo | URL, init?: RequestInit) => app.request(input, init)) as typeof fetch,
    })
    expect(done).toMatchObject({ key: 'users/alice/notes.txt', size: 5000, result: { owner: 'alice', plan: 'pro' } })
    expect(asked).toEqual([
      { action: 'upload', user: 'alice', path: '/uploads/create' },
      { action: 'complete', user: 'alice', path: '/uploads/complete' },
    ])

    const redirect = await app.request(`/uploads/download?key=${encodeURIComponent(done.key)}`, {
      headers: { authorization: 'Bearer token-alice' },
    })
    expect(redirect.status).toBe(302)
    const download = await fetch(redirect.headers.get('location')!)
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true)
  })

  it('refuses with 403 when the middleware set no user, and applies the free plan limit that maxFileSize derives from the user', async () => {
    const file = { filename: 'a.txt', contentType: 'text/plain', size: 2000 }
    expect(await call('/uploads/create', file)).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    expect(await call('/uploads/create', file, 'token-bob')).toMatchObject({ status: 413, body: { code: 'file_too_large' } })
  })

  it("binds the token to the user: bob cannot complete alice's upload", async () => {
    const { token } = await started('/uploads', 'token-alice', randomBytes(100), 'bound.txt')
    expect(await call('/uploads/complete', { token }, 'token-bob')).toMatchObject({ status: 403, body: { code: 'identity_mismatch' } })
    expect(await call('/uploads/complete', { token }, 'token-alice')).toMatchObject({ status: 200, body: { result: { owner: 'alice' } } })
  })

  it("binds the token to the mount (the handler's prefix): a token from /uploads is refused at /other with the same secret and rules", async () => {
    const { token } = await started('/uploads', 'token-alice', randomBytes(100), 'mounted.txt')
    expect(await call('/other/complete', { token }, 'token-alice')).toMatchObject({ status: 403, body: { code: 'invalid_token' } })
    expect(await call('/uploads/complete', { token }, 'token-alice')).toMatchObject({ status: 200 })
  })

  it('called with c.req.raw instead of the Context, hooks get the Request as before', async () => {
    rawRequests.length = 0
    const created = await call('/raw/create', { filename: 'r.txt', contentType: 'text/plain', size: 3 })
    expect(created.status).toBe(200)
    expect(rawRequests).toHaveLength(1)
    expect(rawRequests[0]).toBeInstanceOf(Request)
  })
})

describe('the fetch handler with a Hono Context, in-process', () => {
  it('answers 404 JSON for a path under the wildcard that is no route, and routes on the full path of c.req.raw', async () => {
    const app = new Hono()
    const api = new Hono()
    const uploads = createFetchHandler({
      prefix: '/api/uploads',
      bucket: 'b',
      secret: SECRET,
      authorize: (_: { request: Context }) => true,
    })
    api.all('/uploads/*', uploads)
    app.route('/api', api)
    const res = await app.request('/api/uploads/nowhere', { method: 'POST' })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'not_found', message: 'No upload route at /api/uploads/nowhere.' })
    const wrong = await app.request('/api/uploads/create', { method: 'GET' })
    expect(wrong.status).toBe(405)
    expect(await wrong.json()).toMatchObject({ code: 'method_not_allowed' })
  })
})
