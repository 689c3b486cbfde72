import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import Fastify5, { type FastifyInstance, type FastifyRequest } from 'fastify'
import Fastify4 from 'fastify-4'
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import presignDefault, { type FastifyPresignOptions, presignPlugin } from '../../src/adapters/fastify'
import type { Identity, KeyForContext } from '../../src/core/options'
import { createTestBucket, describeRgw, putRaw, rgwClientConfig } from '../helpers/rgw'
import { DISGUISED_CREATE_PATHS } from '../helpers/raw-http'

/**
 * What only Fastify shows: its error handler, its 404, its content-type parsers, its request in
 * the hooks, its prefixes and router. The shared contract (every route) runs through Fastify 4
 * and 5 in contract.test.ts and hardening.test.ts (test/helpers/targets.ts).
 */

type AnyFastify = typeof Fastify5
const majors: Array<{ name: string; fastify: AnyFastify }> = [
  { name: 'Fastify 5', fastify: Fastify5 },
  { name: 'Fastify 4', fastify: Fastify4 as unknown as AnyFastify },
]

/** No request here reaches S3 (a single-PUT `create` only signs). */
const store = {
  bucket: 'fastify-bucket',
  region: 'us-east-1',
  s3: { credentials: { accessKeyId: 'AKIAFASTIFY', secretAccessKey: 'x' }, endpoint: 'http://127.0.0.1:1', forcePathStyle: true },
  secret: 'fastify-secret-0123456789',
}
const offline: FastifyPresignOptions = { ...store, authorize: () => ({ id: 'alice' }) }
const file = { filename: 'photo.png', contentType: 'image/png', size: 1234 }
const createBody = JSON.stringify(file)

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: any
}

/** A raw HTTP request: the path is sent exactly as given (fetch and supertest normalise some). */
function send(
  base: string,
  method: string,
  path: string,
  body?: string | Buffer,
  contentType?: string,
  extra: Record<string, string> = {},
): Promise<Answer> {
  const u = new URL(base)
  const headers: Record<string, string> = { ...extra }
  if (contentType) headers['content-type'] = contentType
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname: u.hostname, port: u.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const postJson = (base: string, path: string, body: unknown) => send(base, 'POST', path, JSON.stringify(body), 'application/json')

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** Listens on loopback until the end of the test. */
const running: FastifyInstance[] = []
function serve(app: FastifyInstance): Promise<string> {
  running.push(app)
  return listen(app)
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

it('exports the plugin as the default export too', () => {
  expect(presignDefault).toBe(presignPlugin)
})

it('types the hooks (checked by tsc): request is the FastifyRequest, identity what authorize returns (presignPlugin<User>)', () => {
  interface User extends Identity {
    id: string
    plan: 'free' | 'pro'
  }
  const app = Fastify5()
  app.register(presignPlugin, {
    ...offline,
    authorize: ({ request }) => {
      expectTypeOf(request).toEqualTypeOf<FastifyRequest>()
      return { id: 'a' }
    },
    keyFor: ({ request, identity }) => {
      expectTypeOf(request).toEqualTypeOf<FastifyRequest>()
      // register() without a type argument: the default identity, a caller or anonymous.
      expectTypeOf(identity).toEqualTypeOf<Identity | true>()
      return 'k'
    },
  })
  app.register(presignPlugin<User>, {
    ...store,
    authorize: () => ({ id: 'a', plan: 'pro' }),
    keyFor: ({ identity }) => {
      expectTypeOf(identity).toEqualTypeOf<KeyForContext<FastifyRequest, User>['identity']>()
      return `${identity.plan}/k`
    },
  })
  // @ts-expect-error: the options are checked, `bucket` is required
  app.register(presignPlugin, { secret: 'x', authorize: () => true })
})

describe.each(majors)('$name', ({ name, fastify }) => {
  it('refuses a configuration mistake at start-up: ready() rejects with the prefixed message', async () => {
    const app = fastify()
    app.register(presignPlugin, { prefix: '/uploads', bucket: 'b', authorize: () => true } as unknown as FastifyPresignOptions)
    await expect(app.ready()).rejects.toThrow(/\[s3-presign-middleware\] `secret` is required/)
  })

  describe('errors', () => {
    it("hands a hook's unexpected error to the app's setErrorHandler, the same Error object", async () => {
      const boom = new Error('database down')
      const seen: unknown[] = []
      const app = fastify()
      app.setErrorHandler((error, _request, reply) => {
        seen.push(error)
        reply.code(503).send({ code: 'host_error', message: 'try later' })
      })
      app.register(presignPlugin, {
        ...offline,
        prefix: '/uploads',
        authorize: () => {
          throw boom
        },
      })
      const res = await postJson(await serve(app), '/uploads/create', file)
      expect({ status: res.status, body: res.json, seen }).toEqual({
        status: 503,
        body: { code: 'host_error', message: 'try later' },
        seen: [boom],
      })
    })

    it("answers such an error with Fastify's default 500 when the app has no error handler", async () => {
      const app = fastify()
      app.register(presignPlugin, {
        ...offline,
        prefix: '/uploads',
        authorize: () => {
          throw new Error('database down')
        },
      })
      const res = await postJson(await serve(app), '/uploads/create', file)
      expect(res.status).toBe(500)
      expect(res.json).toMatchObject({ statusCode: 500, error: 'Internal Server Error' })
    })

    it('answers refusals itself, as the package JSON, without the error handler', async () => {
      const seen: unknown[] = []
      const app = fastify()
      app.setErrorHandler((error, _request, reply) => {
        seen.push(error)
        reply.code(500).send({ code: 'host_error' })
      })
      app.register(presignPlugin, { ...offline, prefix: '/uploads', authorize: () => false })
      const res = await postJson(await serve(app), '/uploads/create', file)
      expect({ status: res.status, body: res.json, seen }).toEqual({
        status: 403,
        body: { code: 'forbidden', message: expect.any(String) },
        seen: [],
      })
    })
  })

  describe("content types: Fastify's JSON parser and other parsers stay the app's", () => {
    let app: FastifyInstance
    let base: string
    const textParsed: string[] = []
    beforeAll(async () => {
      app = fastify({ bodyLimit: 1024 })
      app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
        textParsed.push(body as string)
        done(null, body)
      })
      app.post('/echo', async (request) => ({ type: typeof request.body, body: request.body }))
      app.register(presignPlugin, { ...offline, prefix: '/uploads' })
      base = await listen(app)
    })
    afterAll(() => app?.close())

    it("still parses the app's own routes with Fastify's JSON parser and the app's text/plain parser", async () => {
      const json = await postJson(base, '/echo', { a: 1 })
      expect(json.json).toEqual({ type: 'object', body: { a: 1 } })
      const text = await send(base, 'POST', '/echo', 'hello', 'text/plain')
      expect(text.json).toEqual({ type: 'string', body: 'hello' })
    })

    it('serves a JSON create next to them', async () => {
      const res = await postJson(base, '/uploads/create', file)
      expect(res.status, res.text).toBe(200)
      expect(res.json).toMatchObject({ strategy: 'single', method: 'PUT' })
    })

    it.each([
      ['text/plain', createBody],
      ['text/plain; charset=utf-8', createBody],
      ['application/x-www-form-urlencoded', new URLSearchParams(file as unknown as Record<string, string>).toString()],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="filename"\r\n\r\nphoto.png\r\n--x--\r\n`],
      ['application/octet-stream', createBody],
    ])('refuses a %s create with the package 415, before any parser reads it', async (contentType, body) => {
      textParsed.length = 0
      const res = await send(base, 'POST', '/uploads/create', body, contentType)
      expect({ status: res.status, body: res.json, textParsed }).toEqual({
        status: 415,
        body: { code: 'unsupported_media_type', message: expect.any(String) },
        textParsed: [],
      })
    })

    it('refuses a body without a Content-Type with the package 415', async () => {
      const res = await send(base, 'POST', '/uploads/create', createBody)
      expect(res.status).toBe(415)
      expect(res.json.code).toBe('unsupported_media_type')
    })

    it(`refuses a malformed Content-Type with 415 (${name === 'Fastify 5' ? "Fastify 5's own, before any plugin" : 'the package JSON'})`, async () => {
      const res = await send(base, 'POST', '/uploads/create', createBody, 'json')
      expect({ status: res.status, code: res.json?.code }).toEqual({
        status: 415,
        code: name === 'Fastify 5' ? 'FST_ERR_CTP_INVALID_MEDIA_TYPE' : 'unsupported_media_type',
      })
    })

    it('accepts a +json type, which no Fastify parser knows', async () => {
      const res = await send(base, 'POST', '/uploads/create', createBody, 'application/vnd.api+json')
      expect(res.status, res.text).toBe(200)
    })

    it('answers invalid JSON with the package 400 invalid_json, not FST_ERR_CTP_INVALID_JSON', async () => {
      const res = await send(base, 'POST', '/uploads/create', '{"filename":', 'application/json')
      expect({ status: res.status, code: res.json?.code }).toEqual({ status: 400, code: 'invalid_json' })
    })

    it("reads up to 1 MiB whatever the app's bodyLimit (1 KiB here): a 10,000-part complete fits", async () => {
      const res = await postJson(base, '/uploads/create', { ...file, filler: 'x'.repeat(700_000) })
      expect(res.status, res.text.slice(0, 200)).toBe(200)
    })

    it('refuses a body over 1 MiB with the package 413', async () => {
      const res = await postJson(base, '/uploads/create', { ...file, filler: 'x'.repeat(1024 * 1024) })
      expect({ status: res.status, code: res.json?.code }).toEqual({ status: 413, code: 'body_too_large' })
    })
  })

  describe('routing', () => {
    const GUARD = { code: 'host_guard', message: 'Only administrators may create uploads here.' }

    /** An app with a guard on exactly POST /uploads/create, recording what authorize saw. */
    async function guarded(withNotFoundHandler: boolean) {
      const authorized: string[] = []
      const app = fastify()
      app.post('/uploads/create', async (_request, reply) => reply.code(403).send(GUARD))
      if (withNotFoundHandler) app.setNotFoundHandler((_request, reply) => reply.code(404).send({ code: 'host_not_found' }))
      app.register(presignPlugin, {
        ...offline,
        prefix: '/uploads',
        authorize: ({ action }) => {
          authorized.push(action)
          return { id: 'alice' }
        },
      })
      return { base: await serve(app), authorized }
    }

    it("passes a path that is not a route to Fastify's 404 handler", async () => {
      const { base, authorized } = await guarded(false)
      const res = await send(base, 'GET', '/uploads/nothing-here')
      expect({ status: res.status, body: res.json, authorized }).toEqual({
        status: 404,
        body: expect.objectContaining({ statusCode: 404, message: 'Route GET:/uploads/nothing-here not found' }),
        authorized: [],
      })
    })

    it.each(DISGUISED_CREATE_PATHS)('never serves %s as create: it goes to the app’s setNotFoundHandler', async (path) => {
      const { base, authorized } = await guarded(true)
      const res = await send(base, 'POST', path, createBody, 'application/json')
      expect({ status: res.status, body: res.json, authorized }).toEqual({ status: 404, body: { code: 'host_not_found' }, authorized: [] })
    })

    it(`never serves /uploads/create;x as create (${name === 'Fastify 4' ? "Fastify 4's router cuts at ';': the guard gets it" : 'the 404 handler gets it'})`, async () => {
      const { base, authorized } = await guarded(true)
      const res = await send(base, 'POST', '/uploads/create;x', createBody, 'application/json')
      const expected = name === 'Fastify 4' ? { status: 403, body: GUARD } : { status: 404, body: { code: 'host_not_found' } }
      expect({ status: res.status, body: res.json, authorized }).toEqual({ ...expected, authorized: [] })
    })

    it.each(['/uploads/%63reate', '/uploads/%63%72%65%61%74%65', '/uploads/cr%65ate?x=1'])(
      'never serves %s as create, though the router decodes it: an onRequest guard on the raw URL holds',
      async (path) => {
        const authorized: string[] = []
        const app = fastify()
        app.addHook('onRequest', async (request, reply) => {
          if (request.method === 'POST' && request.url.split('?')[0] === '/uploads/create') return reply.code(403).send(GUARD)
        })
        app.setNotFoundHandler((_request, reply) => reply.code(404).send({ code: 'host_not_found' }))
        app.register(presignPlugin, {
          ...offline,
          prefix: '/uploads',
          authorize: ({ action }) => {
            authorized.push(action)
            return { id: 'alice' }
          },
        })
        const base = await serve(app)
        const guardHolds = await send(base, 'POST', '/uploads/create', createBody, 'application/json')
        expect(guardHolds.status).toBe(403)
        const res = await send(base, 'POST', path, createBody, 'application/json')
        expect({ status: res.status, body: res.json, authorized }).toEqual({
          status: 404,
          body: { code: 'host_not_found' },
          authorized: [],
        })
      },
    )

    it('leaves the exact path to a more specific app route (the guard holds)', async () => {
      const { base, authorized } = await guarded(true)
      const res = await send(base, 'POST', '/uploads/create', createBody, 'application/json')
      expect({ status: res.status, body: res.json, authorized }).toEqual({ status: 403, body: GUARD, authorized: [] })
    })

    it("lets Fastify's router refuse a path that is not valid percent-encoding (400 FST_ERR_BAD_URL), before any route", async () => {
      const { base, authorized } = await guarded(true)
      const res = await send(base, 'POST', '/uploads/s3/multipart/%E0%A4%A/complete?key=a', '{"parts":[]}', 'application/json')
      expect({ status: res.status, code: res.json?.code, authorized }).toEqual({ status: 400, code: 'FST_ERR_BAD_URL', authorized: [] })
    })

    it.each([
      ['GET', '/uploads/create', 'POST'],
      ['PUT', '/uploads/create', 'POST'],
      ['PATCH', '/uploads/complete', 'POST'],
      ['DELETE', '/uploads/download', 'POST, GET'],
      ['POST', '/uploads/s3/params', 'GET'],
    ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
      const { base } = await guarded(true)
      const res = await send(base, method, path)
      expect({ status: res.status, allow: res.headers.allow, code: res.json?.code }).toEqual({
        status: 405,
        allow,
        code: 'method_not_allowed',
      })
    })

    it("leaves OPTIONS to the app's own route (CORS preflights)", async () => {
      const app = fastify()
      app.options('/*', async (_request, reply) => reply.code(204).header('access-control-allow-origin', 'https://app.example').send())
      app.register(presignPlugin, { ...offline, prefix: '/uploads' })
      const res = await send(await serve(app), 'OPTIONS', '/uploads/create')
      expect({ status: res.status, origin: res.headers['access-control-allow-origin'] }).toEqual({
        status: 204,
        origin: 'https://app.example',
      })
    })

    it.each(['uploads', '/uploads/'])('serves the routes under prefix %j as under /uploads', async (prefix) => {
      const app = fastify()
      app.register(presignPlugin, { ...offline, prefix })
      const base = await serve(app)
      expect((await postJson(base, '/uploads/create', file)).status).toBe(200)
      expect((await send(base, 'GET', '/uploads/nothing')).status).toBe(404)
    })

    it('serves the routes under nested prefixes (/api + /uploads)', async () => {
      const app = fastify()
      app.register(
        async (api) => {
          api.register(presignPlugin, { ...offline, prefix: '/uploads' })
        },
        { prefix: '/api' },
      )
      const base = await serve(app)
      expect((await postJson(base, '/api/uploads/create', file)).status).toBe(200)
      expect((await postJson(base, '/uploads/create', file)).status).toBe(404)
    })

    it("registered without a prefix, leaves the app's other routes and its 404 alone", async () => {
      const app = fastify()
      app.get('/health', async () => ({ ok: true }))
      app.setNotFoundHandler((_request, reply) => reply.code(404).send({ code: 'host_not_found' }))
      app.register(presignPlugin, offline)
      const base = await serve(app)
      expect((await postJson(base, '/create', file)).status).toBe(200)
      expect((await send(base, 'GET', '/health')).json).toEqual({ ok: true })
      expect((await send(base, 'GET', '/elsewhere')).json).toEqual({ code: 'host_not_found' })
    })
  })

  it('gives the hooks the FastifyRequest the app decorated, the same object its onRequest hook saw', async () => {
    type WithUser = FastifyRequest & { user: string | null }
    const seenByHook = new WeakSet<object>()
    const seenByAuthorize: unknown[] = []
    const app = fastify()
    app.decorateRequest('user', null)
    app.addHook('onRequest', async (request) => {
      ;(request as WithUser).user = (request.headers['x-user'] as string | undefined) ?? null
      seenByHook.add(request)
    })
    app.register(presignPlugin, {
      ...offline,
      prefix: '/uploads',
      authorize: ({ request }) => {
        seenByAuthorize.push(request)
        const { user } = request as WithUser
        return user ? { id: user } : false
      },
      keyFor: ({ identity, request }) => `${identity === true ? 'anon' : identity.id}/${request.id}`,
    })
    const base = await serve(app)
    const anonymous = await postJson(base, '/uploads/create', file)
    expect(anonymous.status).toBe(403)
    const res = await send(base, 'POST', '/uploads/create', createBody, 'application/json', { 'x-user': 'bob' })
    expect(res.status, res.text).toBe(200)
    expect(res.json.key).toMatch(/^bob\/req-/)
    expect(seenByAuthorize).toHaveLength(2)
    for (const request of seenByAuthorize) expect(seenByHook.has(request as object)).toBe(true)
  })
})

// -----------------------------------------------------------------------------------------------
// Uploads through Fastify to a real S3 server

describeRgw('uploads through Fastify to Ceph RGW', () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>
  beforeAll(async () => {
    t = await createTestBucket('fastify')
  })
  afterAll(async () => {
    await t?.cleanup()
  })

  describe.each(majors)('$name', ({ fastify }) => {
    let app: FastifyInstance
    let base: string
    const hostErrors: unknown[] = []
    beforeAll(async () => {
      app = fastify()
      app.setErrorHandler((error, _request, reply) => {
        hostErrors.push(error)
        reply.code(500).send({ code: 'host_error', message: (error as Error).message })
      })
      app.register(presignPlugin, {
        prefix: '/uploads',
        bucket: t.bucket,
        s3: rgwClientConfig(),
        secret: 'fastify-rgw-secret-0123456789',
        authorize: () => ({ id: 'carol' }),
        onComplete: ({ key, size, metadata }) => {
          if (metadata.explode) throw new Error('onComplete exploded')
          return { stored: key, size }
        },
      })
      base = await listen(app)
    })
    afterAll(() => app?.close())

    it('create → PUT to RGW → complete → download: the same bytes', async () => {
      const bytes = randomBytes(64 * 1024)
      const created = await postJson(base, '/uploads/create', {
        filename: 'a.bin',
        contentType: 'application/octet-stream',
        size: bytes.length,
      })
      expect(created.status, created.text).toBe(200)
      const put = await putRaw(created.json.url, { headers: created.json.headers, body: bytes })
      expect(put.status, put.text).toBe(200)
      const completed = await postJson(base, '/uploads/complete', { token: created.json.token })
      expect(completed.status, completed.text).toBe(200)
      expect(completed.json).toMatchObject({
        key: created.json.key,
        size: bytes.length,
        result: { stored: created.json.key, size: bytes.length },
      })
      const redirect = await send(base, 'GET', `/uploads/download?key=${encodeURIComponent(created.json.key)}`)
      expect(redirect.status).toBe(302)
      const download = await fetch(String(redirect.headers.location))
      expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true)
    })

    it('passes an error thrown by onComplete after verification to the setErrorHandler, keeping the object', async () => {
      hostErrors.length = 0
      const bytes = randomBytes(1000)
      const created = await postJson(base, '/uploads/create', {
        filename: 'b.bin',
        contentType: 'application/octet-stream',
        size: bytes.length,
        metadata: { explode: 'yes' },
      })
      expect(created.status, created.text).toBe(200)
      expect((await putRaw(created.json.url, { headers: created.json.headers, body: bytes })).status).toBe(200)
      const completed = await postJson(base, '/uploads/complete', { token: created.json.token })
      expect({ status: completed.status, body: completed.json }).toEqual({
        status: 500,
        body: { code: 'host_error', message: 'onComplete exploded' },
      })
      expect(hostErrors).toEqual([expect.objectContaining({ message: 'onComplete exploded' })])
      const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: created.json.key }))
      expect(head.ContentLength).toBe(bytes.length)
    })

    it("drives Uppy's multipart routes (ids longer than Fastify's maxParamLength) and completes on RGW", async () => {
      const bytes = randomBytes(200 * 1024)
      const started = await postJson(base, '/uploads/s3/multipart', { filename: 'c.bin', type: 'application/octet-stream', metadata: {} })
      expect(started.status, started.text).toBe(200)
      const { uploadId, key } = started.json as { uploadId: string; key: string }
      expect(uploadId.length).toBeGreaterThan(100)
      const q = `?key=${encodeURIComponent(key)}`
      const id = encodeURIComponent(uploadId)

      const signed = await send(base, 'GET', `/uploads/s3/multipart/${id}/1${q}`)
      expect(signed.status, signed.text).toBe(200)
      const put = await putRaw(signed.json.url, { body: bytes })
      expect(put.status, put.text).toBe(200)
      const etag = put.headers.get('etag')!

      const listed = await send(base, 'GET', `/uploads/s3/multipart/${id}${q}`)
      expect(listed.json).toEqual([{ PartNumber: 1, ETag: etag, Size: bytes.length }])

      const done = await postJson(base, `/uploads/s3/multipart/${id}/complete${q}`, { parts: [{ PartNumber: 1, ETag: etag }] })
      expect(done.status, done.text).toBe(200)
      expect(done.json).toMatchObject({ key, bucket: t.bucket })
      const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }))
      expect(head.ContentLength).toBe(bytes.length)

      const other = await postJson(base, '/uploads/s3/multipart', { filename: 'd.bin', type: 'application/octet-stream', metadata: {} })
      const aborted = await send(
        base,
        'DELETE',
        `/uploads/s3/multipart/${encodeURIComponent(other.json.uploadId)}?key=${encodeURIComponent(other.json.key)}`,
      )
      expect({ status: aborted.status, body: aborted.json }).toEqual({ status: 200, body: {} })
    })
  })
})
