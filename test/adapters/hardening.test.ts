import { randomUUID } from 'node:crypto'
import { Agent, type RequestListener, createServer, request as httpRequest } from 'node:http'
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import { getRequestListener } from '@hono/node-server'
import bodyParser from '@koa/bodyparser'
import express5 from 'express'
import express4 from 'express-4'
import Koa3 from 'koa'
import Koa2 from 'koa-2'
import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { presignMiddleware as expressMiddleware } from '../../src/adapters/express'
import { createFetchHandler } from '../../src/adapters/fetch'
import { presignMiddleware as koaMiddleware } from '../../src/adapters/koa'
import { type PresignOptions, sanitizeFilename } from '../../src/index'
import { createTestBucket, describeRgw, rgwClientConfig, RGW_ENDPOINT } from '../helpers/rgw'
import { DISGUISED_CREATE_PATHS, rawRequest } from '../helpers/raw-http'
import { expressHost, listen, targets } from '../helpers/targets'

/**
 * Issue 9, items 2, 3, 6 (header-breaking input) and 7, through every adapter.
 *
 * Where a request could reach S3, S3 is Ceph RGW behind a loopback pass-through proxy that
 * records every request it forwards: "refused before anything is sent to S3" is then an empty
 * record, and what RGW holds (open multipart uploads) is read directly, not through the proxy.
 * Routes that never reach S3 (raw paths, malformed Uppy ids) use an unreachable endpoint.
 */

const MiB = 1024 * 1024
type Options = PresignOptions<any, any, any>
type AnyExpress = typeof express5

// ---------------------------------------------------------------------------------------------
// S3 behind a recorder

interface S3Recorder {
  /** `http://127.0.0.1:<port>`: the presigner's S3 endpoint. */
  url: string
  /** `METHOD /path?query` of every request that reached "S3", in order. */
  seen: string[]
  close(): Promise<void>
}

/**
 * Forwards every request byte for byte to RGW with the `Host` header unchanged (so SigV4
 * signatures made for the recorder's host still verify) and records it.
 */
async function recordS3(target = RGW_ENDPOINT): Promise<S3Recorder> {
  const seen: string[] = []
  const upstream = new URL(target)
  const agent = new Agent({ keepAlive: true })
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    const headers = { ...req.headers }
    delete headers.connection
    const forward = httpRequest(
      { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', (err) => res.destroy(err))
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function jsonOf(text: string): any {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// Hosts with a body parser of their own in front of the middleware (SPEC §5.10)

interface ParserApp {
  name: string
  /** The non-JSON content types this host's parser reads before the middleware sees them. */
  parses: string[]
  build(options: Options): RequestListener
}

function expressWithParser(version: string, express: AnyExpress, parser: string, parses: string[], use: (app: any) => void): ParserApp {
  return {
    name: `${version} + ${parser}`,
    parses,
    build: (options) => expressHost(express, options, use),
  }
}

function koaWithParser(
  version: string,
  Koa: typeof Koa3,
  parser: string,
  parses: string[],
  options_: Parameters<typeof bodyParser>[0],
): ParserApp {
  return {
    name: `${version} + ${parser}`,
    parses,
    build(options) {
      const app = new Koa()
      app.use(async (ctx, next) => {
        try {
          await next()
        } catch (err) {
          ctx.status = (err as { status?: number }).status ?? 500
          ctx.body = { code: 'host_error', message: (err as Error).message }
        }
      })
      app.use(bodyParser(options_))
      app.use(koaMiddleware({ prefix: '/uploads', ...options }))
      app.use((ctx) => {
        ctx.status = 404
        ctx.body = { code: 'host_not_found' }
      })
      return app.callback() as RequestListener
    },
  }
}

const FORM = 'application/x-www-form-urlencoded'
const TEXT = 'text/plain'
const MULTIPART_FORM = 'multipart/form-data'
const OCTETS = 'application/octet-stream'

const parserApps: ParserApp[] = [
  ...(
    [
      ['Express 5', express5],
      ['Express 4', express4 as unknown as AnyExpress],
    ] as const
  ).flatMap(([version, express]) => [
    expressWithParser(version, express, 'express.urlencoded()', [FORM], (app) => app.use(express.urlencoded({ extended: false }))),
    expressWithParser(version, express, 'express.text()', [TEXT], (app) => app.use(express.text())),
    expressWithParser(version, express, 'express.raw()', [OCTETS], (app) => app.use(express.raw())),
    expressWithParser(version, express, "express.text({ type: '*/*' })", [FORM, TEXT, MULTIPART_FORM, OCTETS], (app) =>
      app.use(express.text({ type: '*/*' })),
    ),
  ]),
  ...(
    [
      ['Koa 3', Koa3],
      ['Koa 2', Koa2 as unknown as typeof Koa3],
    ] as const
  ).flatMap(([version, Koa]) => [
    // @koa/bodyparser 6 defaults to enableTypes ['json', 'form'].
    koaWithParser(version, Koa, '@koa/bodyparser()', [FORM], undefined),
    koaWithParser(version, Koa, "@koa/bodyparser({ enableTypes: ['json', 'form', 'text'] })", [FORM, TEXT], {
      enableTypes: ['json', 'form', 'text'],
    }),
  ]),
]

/** The body a form or a text/plain request would carry, in the given content type. */
async function encodeAs(contentType: string, body: Record<string, unknown>): Promise<{ contentType: string; payload: string | Buffer }> {
  const flat = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))
  if (contentType === FORM) {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(body)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, flat(item))
    return { contentType, payload: params.toString() }
  }
  if (contentType === MULTIPART_FORM) {
    const form = new FormData()
    for (const [k, v] of Object.entries(body)) form.append(k, flat(v))
    const encoded = new Response(form)
    return { contentType: encoded.headers.get('content-type')!, payload: Buffer.from(await encoded.arrayBuffer()) }
  }
  // text/plain and octet-stream: the JSON text itself (what an HTML text/plain form can forge).
  return { contentType, payload: contentType === OCTETS ? Buffer.from(JSON.stringify(body)) : JSON.stringify(body) }
}

interface Started {
  token: string
  key: string
  uploadId: string
}

/** One route that reads a body, with what it needs to be served today were it JSON. */
interface BodyRoute {
  route: string
  needs: 'nothing' | 'native upload' | 'uppy upload'
  path(u: Started): string
  body(u: Started): Record<string, unknown>
}

const bodyRoutes: BodyRoute[] = [
  {
    route: '/create',
    needs: 'nothing',
    path: () => '/uploads/create',
    body: () => ({ filename: 'evil.html', contentType: 'text/html', size: 6 * MiB }),
  },
  { route: '/sign-parts', needs: 'native upload', path: () => '/uploads/sign-parts', body: (u) => ({ token: u.token, partNumbers: [1] }) },
  { route: '/list-parts', needs: 'native upload', path: () => '/uploads/list-parts', body: (u) => ({ token: u.token }) },
  { route: '/complete', needs: 'native upload', path: () => '/uploads/complete', body: (u) => ({ token: u.token }) },
  { route: '/abort', needs: 'native upload', path: () => '/uploads/abort', body: (u) => ({ token: u.token }) },
  { route: '/delete', needs: 'native upload', path: () => '/uploads/delete', body: (u) => ({ key: u.key }) },
  {
    route: '/s3/multipart',
    needs: 'nothing',
    path: () => '/uploads/s3/multipart',
    body: () => ({ filename: 'evil.html', type: 'text/html' }),
  },
  {
    route: '/s3/multipart/:uploadId/complete',
    needs: 'uppy upload',
    path: (u) => `/uploads/s3/multipart/${encodeURIComponent(u.uploadId)}/complete?key=${encodeURIComponent(u.key)}`,
    body: () => ({ parts: [{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }] }),
  },
]

/** One adapter per framework major, without a parser: items 6 and 7 do not depend on parsers. */
const perAdapter = targets.filter((t) => !t.parser)

describeRgw('issue 9 hardening, through every adapter, against Ceph RGW', () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>
  let s3: S3Recorder
  let options: Options

  beforeAll(async () => {
    t = await createTestBucket('hardening')
    s3 = await recordS3()
    options = {
      bucket: t.bucket,
      s3: { ...rgwClientConfig(), endpoint: s3.url },
      secret: 'hardening-secret-0123456789',
      authorize: () => ({ id: 'victim' }),
      multipart: { threshold: 5 * MiB },
    }
  })
  afterAll(async () => {
    await s3?.close()
    await t?.cleanup()
  })
  beforeEach(() => {
    if (s3) s3.seen.length = 0
  })

  /** Keys of the multipart uploads RGW holds under `prefix`, read directly (not through the recorder). */
  async function openUploads(prefix: string): Promise<string[]> {
    const page = await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: prefix }))
    return (page.Uploads ?? []).map((u) => u.Key!).sort()
  }

  /** Starts a real upload with a proper JSON request, then forgets what reached S3 doing it. */
  async function start(listener: RequestListener, kind: 'native upload' | 'uppy upload'): Promise<Started> {
    const empty = { token: '', key: '', uploadId: '' }
    if (kind === 'native upload') {
      const res = await request(listener)
        .post('/uploads/create')
        .send({ filename: 'big.bin', contentType: 'application/octet-stream', size: 6 * MiB })
      expect(res.status, res.text).toBe(200)
      expect(res.body.strategy).toBe('multipart')
      s3.seen.length = 0
      return { ...empty, token: res.body.token, key: res.body.key }
    }
    const res = await request(listener)
      .post('/uploads/s3/multipart')
      .send({ filename: 'big.bin', type: 'application/octet-stream', metadata: {} })
    expect(res.status, res.text).toBe(200)
    s3.seen.length = 0
    return { ...empty, uploadId: res.body.uploadId, key: res.body.key }
  }

  // -------------------------------------------------------------------------------------------
  describe('item 2 (SPEC §5.10): the JSON Content-Type check holds whatever parsed the body first', () => {
    const hosts = [
      ...parserApps.map((p) => ({ name: p.name, build: p.build, contentTypes: [...new Set([FORM, TEXT, MULTIPART_FORM, ...p.parses])] })),
      ...targets.map((p) => ({ name: p.name, build: p.build, contentTypes: [FORM, TEXT, MULTIPART_FORM] })),
    ]

    describe.each(hosts.map((h, i) => ({ ...h, space: `host-${i}` })))('$name', (host) => {
      let listener: RequestListener
      // Uploads the forged requests aim at, started by proper JSON requests. Only an abort changes
      // an upload, so each abort gets a fresh one.
      const shared: Partial<Record<BodyRoute['needs'], Started>> = {}
      beforeAll(async () => {
        // Every key this host hands out is under its own prefix, so RGW can be asked what it holds.
        listener = host.build({ ...options, keyFor: ({ file }) => `${host.space}/${randomUUID()}/${sanitizeFilename(file.filename)}` })
        shared['native upload'] = await start(listener, 'native upload')
        shared['uppy upload'] = await start(listener, 'uppy upload')
      })

      const cases = bodyRoutes.flatMap((r) => host.contentTypes.map((contentType) => ({ ...r, contentType })))
      it.each(cases)(
        'refuses a $contentType POST to $route with 415 unsupported_media_type and sends nothing to S3',
        async ({ route, needs, path, body, contentType }) => {
          const target =
            needs === 'nothing' ? { token: '', key: '', uploadId: '' } : route === '/abort' ? await start(listener, needs) : shared[needs]!
          const encoded = await encodeAs(contentType, body(target))
          const res = await request(listener).post(path(target)).set('content-type', encoded.contentType).send(encoded.payload)
          const observed = { status: res.status, body: jsonOf(res.text) ?? res.text, s3: [...s3.seen] }
          expect(observed).toEqual({ status: 415, body: { code: 'unsupported_media_type', message: expect.any(String) }, s3: [] })
        },
      )

      it('leaves RGW as it was after forged requests to /create, /s3/multipart and /abort: nothing started, nothing aborted', async () => {
        const victim = await start(listener, 'native upload')
        const before = await openUploads(`${host.space}/`)
        expect(before).toContain(victim.key)
        for (const contentType of host.contentTypes) {
          for (const route of bodyRoutes.filter((r) => ['/create', '/s3/multipart', '/abort'].includes(r.route))) {
            const encoded = await encodeAs(contentType, route.body(victim))
            await request(listener).post(route.path(victim)).set('content-type', encoded.contentType).send(encoded.payload)
          }
        }
        expect(await openUploads(`${host.space}/`)).toEqual(before)
      })

      it('still serves the same routes when the body is JSON (create, sign-parts, Uppy create, abort)', async () => {
        const native = await request(listener)
          .post('/uploads/create')
          .send({ filename: 'ok.bin', contentType: 'application/octet-stream', size: 6 * MiB })
        expect(native.status, native.text).toBe(200)
        const signed = await request(listener)
          .post('/uploads/sign-parts')
          .send({ token: native.body.token, partNumbers: [1, 2] })
        expect(signed.status, signed.text).toBe(200)
        expect(signed.body.parts).toHaveLength(2)
        const uppy = await request(listener)
          .post('/uploads/s3/multipart')
          .send({ filename: 'ok.bin', type: 'application/octet-stream', metadata: {} })
        expect(uppy.status, uppy.text).toBe(200)
        expect(await openUploads(`${host.space}/`)).toEqual(expect.arrayContaining([native.body.key, uppy.body.key]))
        const aborted = await request(listener).post('/uploads/abort').send({ token: native.body.token })
        expect(aborted.status, aborted.text).toBe(200)
        const gone = await request(listener).delete(
          `/uploads/s3/multipart/${encodeURIComponent(uppy.body.uploadId)}?key=${encodeURIComponent(uppy.body.key)}`,
        )
        expect(gone.status, gone.text).toBe(200)
        const left = await openUploads(`${host.space}/`)
        expect(left).not.toContain(native.body.key)
        expect(left).not.toContain(uppy.body.key)
      })
    })
  })

  // -------------------------------------------------------------------------------------------
  describe('item 6 (SPEC §5.14): header-breaking characters are refused with 400 before anything is signed or sent to S3', () => {
    const CONTROLS: Array<[string, string]> = [
      ['CR', '\r'],
      ['LF', '\n'],
      ['CRLF', '\r\n'],
      ['VT', '\v'],
      ['FF', '\f'],
      ['NUL', '\0'],
      ['DEL', '\x7f'],
      ['U+0085', '\u0085'],
      ['U+009B', '\u009b'],
      ['U+2028', '\u2028'],
      ['U+2029', '\u2029'],
    ]
    // Where the character sits in a content type: before a parameter (`\s` in today's pattern
    // admits CR, LF, VT, FF, U+2028, U+2029 there) and inside a quoted value (admits all but CR/LF).
    const typeBeforeParameter = (c: string) => `image/png${c};a=b`
    const typeInQuotedValue = (c: string) => `image/png; a="x${c}y"`

    type Send = (listener: RequestListener, c: string) => Promise<request.Response>
    const create =
      (body: (c: string) => Record<string, unknown>): Send =>
      (listener, c) =>
        request(listener).post('/uploads/create').send(body(c))
    const params =
      (query: (c: string) => Record<string, string>): Send =>
      (listener, c) =>
        request(listener).get(`/uploads/s3/params?${new URLSearchParams(query(c))}`)
    const uppyCreate =
      (body: (c: string) => Record<string, unknown>): Send =>
      (listener, c) =>
        request(listener).post('/uploads/s3/multipart').send(body(c))

    const sizes: Array<[string, number]> = [
      ['single', 1000],
      ['multipart', 6 * MiB],
    ]
    const cases: Array<{ name: string; send: Send }> = [
      ...sizes.flatMap(([strategy, size]) => [
        {
          name: `/create (${strategy}) contentType, before a parameter`,
          send: create((c) => ({ filename: 'a.png', contentType: typeBeforeParameter(c), size })),
        },
        {
          name: `/create (${strategy}) contentType, in a quoted parameter`,
          send: create((c) => ({ filename: 'a.png', contentType: typeInQuotedValue(c), size })),
        },
        { name: `/create (${strategy}) filename`, send: create((c) => ({ filename: `a${c}b.png`, contentType: 'image/png', size })) },
        {
          name: `/create (${strategy}) metadata value`,
          send: create((c) => ({ filename: 'a.png', contentType: 'image/png', size, metadata: { caption: `a${c}b` } })),
        },
      ]),
      { name: '/s3/params type, before a parameter', send: params((c) => ({ filename: 'a.png', type: typeBeforeParameter(c) })) },
      { name: '/s3/params type, in a quoted parameter', send: params((c) => ({ filename: 'a.png', type: typeInQuotedValue(c) })) },
      { name: '/s3/params filename', send: params((c) => ({ filename: `a${c}b.png`, type: 'image/png' })) },
      {
        name: '/s3/params metadata[caption]',
        send: params((c) => ({ filename: 'a.png', type: 'image/png', 'metadata[caption]': `a${c}b` })),
      },
      {
        name: '/s3/multipart type, before a parameter',
        send: uppyCreate((c) => ({ filename: 'a.png', type: typeBeforeParameter(c), metadata: {} })),
      },
      {
        name: '/s3/multipart type, in a quoted parameter',
        send: uppyCreate((c) => ({ filename: 'a.png', type: typeInQuotedValue(c), metadata: {} })),
      },
      { name: '/s3/multipart filename', send: uppyCreate((c) => ({ filename: `a${c}b.png`, type: 'image/png', metadata: {} })) },
      {
        name: '/s3/multipart metadata.caption',
        send: uppyCreate((c) => ({ filename: 'a.png', type: 'image/png', metadata: { caption: `a${c}b` } })),
      },
    ]

    describe.each(perAdapter)('$name', (target) => {
      let listener: RequestListener
      beforeAll(() => {
        listener = target.build(options)
      })

      it.each(cases)('refuses a control character in $name with 400 invalid_request, unsigned, with no request to S3', async ({ send }) => {
        // One line per character, so a failure shows what each one got.
        const observed: string[] = []
        for (const [name, c] of CONTROLS) {
          s3.seen.length = 0
          const res = await send(listener, c)
          const body = jsonOf(res.text)
          const signed = Boolean(body && (body.url || body.uploadId || body.token || body.fields))
          observed.push(
            `${name}: ${res.status} ${body?.code ?? '(no code)'}, ${signed ? 'signed' : 'unsigned'}, ${s3.seen.length} S3 requests`,
          )
        }
        expect(observed).toEqual(CONTROLS.map(([name]) => `${name}: 400 invalid_request, unsigned, 0 S3 requests`))
      })

      it('still accepts the same fields without control characters', async () => {
        const single = await request(listener)
          .post('/uploads/create')
          .send({ filename: 'a b.png', contentType: 'image/png; a="x y"', size: 1000, metadata: { caption: 'a b' } })
        expect(single.status, single.text).toBe(200)
        const multi = await request(listener)
          .post('/uploads/create')
          .send({ filename: 'a b.png', contentType: 'image/png; a=b', size: 6 * MiB, metadata: { caption: 'a b' } })
        expect(multi.status, multi.text).toBe(200)
        const post = await request(listener).get(
          `/uploads/s3/params?${new URLSearchParams({ filename: 'a b.png', type: 'image/png', 'metadata[caption]': 'a b' })}`,
        )
        expect(post.status, post.text).toBe(200)
        const uppy = await request(listener)
          .post('/uploads/s3/multipart')
          .send({ filename: 'a b.png', type: 'image/png', metadata: { caption: 'a b' } })
        expect(uppy.status, uppy.text).toBe(200)
      })
    })
  })

  // -------------------------------------------------------------------------------------------
  describe('item 7: sign-parts answers at most what was asked once, in capped batches', () => {
    /** The cap this suite assumes: at most 1,000 distinct part numbers per sign-parts call. */
    const MAX_SIGN_BATCH = 1000

    describe.each(perAdapter)('$name', (target) => {
      let listener: RequestListener
      beforeAll(() => {
        listener = target.build({ ...options, maxFileSize: 1024 ** 4 })
      })

      async function multipart(partCount: number): Promise<string> {
        const res = await request(listener)
          .post('/uploads/create')
          .send({ filename: 'big.bin', contentType: 'application/octet-stream', size: partCount * 5 * MiB })
        expect(res.status, res.text).toBe(200)
        expect(res.body).toMatchObject({ strategy: 'multipart', partCount })
        return res.body.token
      }

      it('answers partNumbers [1] x 10,000 with one URL for part 1, or 400 invalid_request', async () => {
        const token = await multipart(2)
        s3.seen.length = 0
        const res = await request(listener)
          .post('/uploads/sign-parts')
          .send({ token, partNumbers: Array.from({ length: 10_000 }, () => 1) })
        const observed =
          res.status === 200 ? `200 with ${res.body.parts.length} URLs (${res.text.length} bytes)` : `${res.status} ${res.body?.code}`
        expect(observed).toMatch(/^(200 with 1 URLs \(\d+ bytes\)|400 invalid_request)$/)
        expect(s3.seen).toEqual([])
      })

      it('answers each distinct part number once when numbers repeat ([3, 1, 3, 2, 1, 2])', async () => {
        const token = await multipart(3)
        const res = await request(listener)
          .post('/uploads/sign-parts')
          .send({ token, partNumbers: [3, 1, 3, 2, 1, 2] })
        expect(res.status, res.text).toBe(200)
        const numbers = res.body.parts.map((p: { partNumber: number }) => p.partNumber)
        expect([...numbers].sort()).toEqual([1, 2, 3])
        for (const part of res.body.parts) expect(new URL(part.url).searchParams.get('partNumber')).toBe(String(part.partNumber))
      })

      it('answers 400 invalid_request, never 500, to entries that are not part numbers (objects with their own toString, deep arrays)', async () => {
        const token = await multipart(3)
        const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
        for (const partNumbers of [
          '[{"toString":1}]',
          '[1,{"toString":null}]',
          '[{"toString":{}}]',
          '[{"valueOf":1,"toString":1}]',
          `[${deep}]`,
          '["1"]',
          '[1.5]',
        ]) {
          for (const checksums of ['', ',"checksums":{"1":"x"}']) {
            const res = await request(listener)
              .post('/uploads/sign-parts')
              .set('content-type', 'application/json')
              .send(`{"token":${JSON.stringify(token)},"partNumbers":${partNumbers}${checksums}}`)
            expect(`${res.status} ${res.body?.code}`, `${partNumbers.slice(0, 40)} ${checksums}`).toBe('400 invalid_request')
          }
        }
      })

      it(`signs a batch of ${MAX_SIGN_BATCH} distinct part numbers`, async () => {
        const token = await multipart(MAX_SIGN_BATCH + 1)
        const res = await request(listener)
          .post('/uploads/sign-parts')
          .send({ token, partNumbers: Array.from({ length: MAX_SIGN_BATCH }, (_, i) => i + 1) })
        expect(res.status, res.text.slice(0, 200)).toBe(200)
        expect(res.body.parts).toHaveLength(MAX_SIGN_BATCH)
      })

      it(`refuses more than ${MAX_SIGN_BATCH} distinct part numbers in one call with 400 invalid_request`, async () => {
        const token = await multipart(MAX_SIGN_BATCH + 1)
        const res = await request(listener)
          .post('/uploads/sign-parts')
          .send({ token, partNumbers: Array.from({ length: MAX_SIGN_BATCH + 1 }, (_, i) => i + 1) })
        const observed = res.status === 200 ? `200 with ${res.body.parts.length} URLs` : `${res.status} ${res.body?.code}`
        expect(observed).toBe('400 invalid_request')
      })
    })
  })
})

// -----------------------------------------------------------------------------------------------
// Item 3 (SPEC §5.11): routing on the raw path. No request here reaches S3.

const offline: Options = {
  bucket: 'paths-bucket',
  region: 'us-east-1',
  s3: { credentials: { accessKeyId: 'AKIAPATHS', secretAccessKey: 'x' }, endpoint: 'http://127.0.0.1:1', forcePathStyle: true },
  secret: 'paths-secret-0123456789',
  authorize: () => ({ id: 'alice' }),
}

const GUARD = { code: 'host_guard', message: 'Only administrators may create uploads here.' }

interface GuardedHost {
  name: string
  /** What a path that is not one of the routes gets: the host's `next()` (404 host_not_found) or fetch's 404 JSON. */
  passedOn: { status: number; code: string }
  build(options: Options, withFallback: boolean): RequestListener
}

function guardedExpress(name: string, express: AnyExpress, guard: 'app.post' | 'app.use'): GuardedHost {
  return {
    name: `${name}, guard ${guard}('/uploads/create')`,
    passedOn: { status: 404, code: 'host_not_found' },
    build(options, withFallback) {
      const app = express()
      const refuse = (_req: unknown, res: express5.Response) => {
        res.status(403).json(GUARD)
      }
      if (guard === 'app.post') app.post('/uploads/create', refuse)
      else app.use('/uploads/create', refuse)
      app.use('/uploads', expressMiddleware(options))
      if (withFallback) {
        app.use((_req, res) => {
          res.status(404).json({ code: 'host_not_found' })
        })
      }
      return app as unknown as RequestListener
    },
  }
}

function guardedKoa(name: string, Koa: typeof Koa3): GuardedHost {
  return {
    name: `${name}, guard on ctx.path === '/uploads/create'`,
    passedOn: { status: 404, code: 'host_not_found' },
    build(options, withFallback) {
      const app = new Koa()
      app.use(async (ctx, next) => {
        if (ctx.method === 'POST' && ctx.path === '/uploads/create') {
          ctx.status = 403
          ctx.body = GUARD
          return
        }
        await next()
      })
      app.use(koaMiddleware({ prefix: '/uploads', ...options }))
      if (withFallback) {
        app.use((ctx) => {
          ctx.status = 404
          ctx.body = { code: 'host_not_found' }
        })
      }
      return app.callback() as RequestListener
    },
  }
}

const guardedFetch: GuardedHost = {
  name: "fetch (node:http), guard on new URL(request.url).pathname === '/uploads/create'",
  passedOn: { status: 404, code: 'not_found' },
  build(options) {
    const handler = createFetchHandler({ prefix: '/uploads', ...options })
    return getRequestListener(async (req) => {
      if (req.method === 'POST' && new URL(req.url).pathname === '/uploads/create') return Response.json(GUARD, { status: 403 })
      return handler(req)
    }) as RequestListener
  },
}

const guardedHosts: GuardedHost[] = [
  guardedExpress('Express 5', express5, 'app.post'),
  guardedExpress('Express 5', express5, 'app.use'),
  guardedExpress('Express 4', express4 as unknown as AnyExpress, 'app.post'),
  guardedExpress('Express 4', express4 as unknown as AnyExpress, 'app.use'),
  guardedKoa('Koa 3', Koa3),
  guardedKoa('Koa 2', Koa2 as unknown as typeof Koa3),
  guardedFetch,
]

describe('item 3 (SPEC §5.11): routes match the raw path the framework routed on', () => {
  const createBody = JSON.stringify({ filename: 'a.png', contentType: 'image/png', size: 10 })

  describe.each(guardedHosts)('$name', (host) => {
    const calls: string[] = []
    let server: Awaited<ReturnType<typeof listen>>
    let bare: Awaited<ReturnType<typeof listen>>
    beforeAll(async () => {
      const opts: Options = {
        ...offline,
        authorize: ({ action }) => {
          calls.push(action)
          return { id: 'alice' }
        },
      }
      server = await listen(host.build(opts, true))
      bare = await listen(host.build(opts, false))
    })
    afterAll(async () => {
      await server?.close()
      await bare?.close()
    })
    beforeEach(() => {
      calls.length = 0
    })

    it('the guard holds for the plain path (control)', async () => {
      const res = await rawRequest(server.url, 'POST', '/uploads/create', createBody)
      expect({ status: res.status, body: jsonOf(res.text) }).toEqual({ status: 403, body: GUARD })
      expect(calls).toEqual([])
    })

    it.each(DISGUISED_CREATE_PATHS)('never serves %s as create: it is passed on', async (path) => {
      const res = await rawRequest(server.url, 'POST', path, createBody)
      const observed = { status: res.status, body: jsonOf(res.text) ?? res.text, authorized: [...calls] }
      if (host === guardedFetch && observed.status === 403) {
        // The fetch bridge hands the handler and the host the same URL-normalised request.url:
        // the host's own guard then saw /uploads/create and refused it, which is also safe.
        expect(observed).toEqual({ status: 403, body: GUARD, authorized: [] })
      } else if (host === guardedFetch && observed.status === 400) {
        // @hono/node-server refuses a backslash in the path itself (400, empty body): no handler ran.
        expect(observed).toEqual({ status: 400, body: '', authorized: [] })
      } else {
        expect(observed).toEqual({
          status: host.passedOn.status,
          body: expect.objectContaining({ code: host.passedOn.code }),
          authorized: [],
        })
      }
    })

    it.each([
      ['GET', '/uploads/s3/multipart/%2e%2e?key=a'],
      ['DELETE', '/uploads/s3/multipart/%2e%2e?key=a'],
      ['GET', '/uploads/s3/multipart/%2e%2e/1?key=a'],
      ['POST', '/uploads/s3/multipart/%2e%2e/complete?key=a'],
      ['GET', '/uploads/s3/multipart/..?key=a'],
      ['GET', '/uploads/s3/multipart/%E0%A4%A?key=a'],
      ['DELETE', '/uploads/s3/multipart/%E0%A4%A?key=a'],
      ['GET', '/uploads/s3/multipart/%E0%A4%A/1?key=a'],
      ['POST', '/uploads/s3/multipart/%E0%A4%A/complete?key=a'],
    ])('answers %s %s (a malformed Uppy id) with a JSON 4xx, not the host 404 page', async (method, path) => {
      const res = await rawRequest(
        bare.url,
        method,
        path,
        method === 'POST' ? JSON.stringify({ parts: [{ PartNumber: 1, ETag: '"a"' }] }) : undefined,
      )
      const observed = { status: res.status, json: /^application\/json/.test(res.contentType), body: jsonOf(res.text) ?? res.text }
      expect(observed).toEqual({ status: expect.any(Number), json: true, body: { code: expect.any(String), message: expect.any(String) } })
      expect(observed.status).toBeGreaterThanOrEqual(400)
      expect(observed.status).toBeLessThan(500)
    })
  })
})
