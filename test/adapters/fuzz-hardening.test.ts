import { type RequestListener, createServer } from 'node:http'
import express5 from 'express'
import express4 from 'express-4'
import fc from 'fast-check'
import Koa3 from 'koa'
import Koa2 from 'koa-2'
import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { presignMiddleware as koaMiddleware } from '../../src/adapters/koa'
import type { PresignOptions } from '../../src/index'
import { rawRequest as raw } from '../helpers/raw-http'
import { expressHost, listen, targets } from '../helpers/targets'

/**
 * Property-based fuzzing of the inputs issue 9 found holes with (items 2, 3, 6, 7), through every
 * adapter: raw paths (`//`, `\`, `%2e%2e`, `%2F`, dot segments, trailing junk), control
 * characters in every field that reaches a header, duplicate part numbers, and bodies a host's
 * parser already read (string, Buffer, form object, JSON). Invariants: never a 5xx, errors are
 * JSON, a path that is not a route is passed on and never served as another route, a
 * header-breaking value is a 400 before anything reaches S3, and a non-JSON Content-Type is a 415
 * whoever parsed the body.
 *
 * "S3" is a loopback HTTP server that records every request and answers like a store would
 * (these properties are about what the middleware lets through, not about S3's refusals, which
 * test/rgw proves on Ceph RGW). FUZZ_RUNS scales the runs (default bounded for CI); fast-check
 * prints the seed and the shrunk counterexample on failure.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 300)
const MiB = 1024 * 1024
type Options = PresignOptions<any, any, any>

// ---------------------------------------------------------------------------------------------
// A recording stand-in for S3

const s3Seen: string[] = []
let s3Url = ''
const fakeS3 = createServer((req, res) => {
  s3Seen.push(`${req.method} ${req.url}`)
  req.resume()
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://s3')
    const xml = (body: string) => {
      res.writeHead(200, { 'content-type': 'application/xml' })
      res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`)
    }
    if (req.method === 'POST' && url.searchParams.has('uploads')) {
      return xml(
        '<InitiateMultipartUploadResult><Bucket>fuzz-bucket</Bucket><Key>k</Key><UploadId>fuzz-upload</UploadId></InitiateMultipartUploadResult>',
      )
    }
    if (req.method === 'GET' && url.searchParams.has('uploadId')) {
      return xml(
        '<ListPartsResult><Bucket>fuzz-bucket</Bucket><Key>k</Key><UploadId>fuzz-upload</UploadId><IsTruncated>false</IsTruncated></ListPartsResult>',
      )
    }
    if (req.method === 'POST' && url.searchParams.has('uploadId')) {
      return xml('<CompleteMultipartUploadResult><Bucket>fuzz-bucket</Bucket><Key>k</Key><ETag>"e"</ETag></CompleteMultipartUploadResult>')
    }
    if (req.method === 'HEAD') {
      res.writeHead(404)
      return res.end()
    }
    res.writeHead(req.method === 'DELETE' ? 204 : 200)
    res.end()
  })
})

beforeAll(async () => {
  await new Promise<void>((resolve) => fakeS3.listen(0, '127.0.0.1', resolve))
  s3Url = `http://127.0.0.1:${(fakeS3.address() as { port: number }).port}`
})
afterAll(
  () =>
    new Promise<void>((resolve) => {
      fakeS3.closeAllConnections()
      fakeS3.close(() => resolve())
    }),
)

/** Who `authorize` was asked about, per request: a passed-on path must not reach it. */
const authorized: string[] = []

function options(extra: Partial<Options> = {}): Options {
  return {
    bucket: 'fuzz-bucket',
    region: 'us-east-1',
    s3: { credentials: { accessKeyId: 'AKIAFUZZ', secretAccessKey: 'x' }, endpoint: s3Url, forcePathStyle: true },
    secret: 'fuzz-hardening-secret-0123456789',
    authorize: ({ action }) => {
      authorized.push(action)
      return { id: 'fuzzer' }
    },
    multipart: { threshold: 5 * MiB },
    maxFileSize: 1024 ** 4,
    ...extra,
  }
}

/** The full run goes through one target per framework; the rest get a lighter pass. */
const runsFor = (name: string, runs = RUNS) =>
  ['Express 5', 'Koa 3', 'fetch (node:http)'].includes(name) ? runs : Math.max(10, Math.ceil(runs / 5))

function jsonOf(text: string): any {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Errors are JSON `{ code, message }` without S3 XML or stack traces (the test hosts' own 404 is `{ code: 'host_not_found' }`). */
function expectJsonError(res: { status: number; contentType: string; text: string }) {
  expect(res.contentType, res.text).toMatch(/^application\/json/)
  const body = jsonOf(res.text)
  expect(typeof body?.code, res.text).toBe('string')
  if (body.code !== 'host_not_found') expect(typeof body?.message, res.text).toBe('string')
  expect(res.text).not.toMatch(/<Error>|at .*\.(ts|js):\d+|AKIA/)
}

const adapters = targets.filter((t) => !t.parser)
const fetchName = 'fetch (node:http)'

// ---------------------------------------------------------------------------------------------
// Item 3 (SPEC §5.11): raw paths

const NATIVE = ['/create', '/sign-parts', '/list-parts', '/complete', '/abort', '/download']

/**
 * What the path below the mount is, as the framework routed it: exactly a route, a route with
 * an Uppy id segment, or not a route. A trailing slash is left open (the core has tolerated one).
 */
function classify(sub: string | undefined): 'native' | 'uppy-fixed' | 'uppy-id' | 'uppy-dot-id' | 'trailing-slash' | 'not-a-route' {
  if (sub === undefined) return 'not-a-route'
  if (sub.length > 1 && sub.endsWith('/')) {
    const inner = classify(sub.slice(0, -1))
    return inner === 'not-a-route' || inner === 'trailing-slash' ? 'not-a-route' : 'trailing-slash'
  }
  if (NATIVE.includes(sub)) return 'native'
  if (sub === '/s3/params' || sub === '/s3/multipart') return 'uppy-fixed'
  const m = /^\/s3\/multipart\/([^/]+)(\/[^/]+)?$/.exec(sub)
  if (m) return m[1] === '.' || m[1] === '..' || m[2] === '/.' || m[2] === '/..' ? 'uppy-dot-id' : 'uppy-id'
  return 'not-a-route'
}

/** The path the host framework routed on: the raw path for Node frameworks, the URL-normalised one for fetch. */
function routedPath(target: string, rawPath: string): string {
  const pathOnly = rawPath.split('?')[0]!
  return target === fetchName ? new URL(`http://h${rawPath}`).pathname : pathOnly
}

function below(path: string, prefix = '/uploads'): string | undefined {
  if (path === prefix) return '/'
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined
}

const piece = fc.constantFrom(
  '',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2e%2e',
  '%2E%2e',
  '.%2e',
  '%2F',
  '%5C',
  '%5c',
  '\\',
  'x',
  'create',
  'CREATE',
  'uploads',
  's3',
  'multipart',
  'params',
  'complete',
  'sign-parts',
  'download',
  'abort',
  '%00',
  '%E0%A4%A',
  ';',
  'create;x',
  'create%20',
  '~',
  '%252e%252e',
  'v1.e30.AAAA',
  '1',
  '10001',
)
const separator = fc.constantFrom('/', '/', '/', '/', '//', '\\', '/./', '/../', '/%2e%2e/', '/%2F')
const tail = fc.constantFrom('', '', '', '/', '//', '/.', '/..', '/%2e', '?', '?key=a', '%20', '.', ';', '%00', '%')
const routeLike = fc.constantFrom(
  ...NATIVE,
  '/s3/params',
  '/s3/multipart',
  '/s3/multipart/v1.e30.AAAA',
  '/s3/multipart/v1.e30.AAAA/1',
  '/s3/multipart/v1.e30.AAAA/complete',
)
/** The paths issue 9 found, always run first (fast-check `examples`). */
const KNOWN = [
  '/uploads//create',
  '/uploads//x/create',
  '/uploads/\\x/create',
  '/uploads/x/%2e%2e/create',
  '/uploads/%2e%2e/uploads/create',
  '/uploads/./create',
  '/uploads/s3/multipart/%2e%2e',
  '/uploads/s3/multipart/%E0%A4%A',
  '/uploads/s3/multipart/%2e%2e/complete',
  '/uploads/create/',
  '/uploads/create//',
]
const rawPath = fc.oneof(
  fc.constantFrom(...KNOWN),
  // Free-form: pieces and separators.
  fc
    .tuple(fc.array(fc.tuple(separator, piece), { minLength: 1, maxLength: 5 }), tail)
    .map(([parts, end]) => `/uploads${parts.map(([s, p]) => s + p).join('')}${end}`),
  // A real route with junk spliced in at a segment boundary.
  fc.tuple(routeLike, fc.nat(), separator, piece, tail).map(([route, at, sep, junk, end]) => {
    const segments = route.split('/').slice(1)
    const i = at % (segments.length + 1)
    const head = segments
      .slice(0, i)
      .map((s) => `/${s}`)
      .join('')
    const rest = segments
      .slice(i)
      .map((s) => `/${s}`)
      .join('')
    return `/uploads${head}${sep}${junk}${rest}${end}`
  }),
  // Exactly a route (with a trailing-junk variant): the property must also see paths that are served.
  fc.tuple(routeLike, fc.constantFrom('', '', '?key=a', '/')).map(([route, end]) => `/uploads${route}${end}`),
)

describe.each(adapters)('raw paths through $name', (target) => {
  let server: Awaited<ReturnType<typeof listen>>
  beforeAll(async () => {
    server = await listen(target.build(options()))
  })
  afterAll(() => server?.close())

  const passedOnCode = target.name === fetchName ? 'not_found' : 'host_not_found'
  const createBody = JSON.stringify({ filename: 'a.png', contentType: 'image/png', size: 10 })

  it('never answers 5xx, answers JSON, passes on every path that is not a route and serves no path as another route', async () => {
    await fc.assert(
      fc.asyncProperty(rawPath, fc.constantFrom('POST', 'POST', 'GET', 'DELETE'), async (path, method) => {
        authorized.length = 0
        const res = await raw(server.url, method, path, method === 'POST' ? createBody : undefined)
        expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(500)
        if (target.name === fetchName && res.status === 400 && res.text === '' && path.split('?')[0]!.includes('\\')) {
          return // @hono/node-server refuses a backslash in the path before any handler runs
        }
        if (target.name.startsWith('Fastify') && res.status === 400 && res.text.includes('"code":"FST_ERR_BAD_URL"')) {
          // Fastify's router refuses a path that is not valid percent-encoding before any route runs.
          expect(authorized, `${method} ${path}`).toEqual([])
          return
        }
        const body = jsonOf(res.text)
        if (res.status >= 400) expectJsonError(res)

        const sub = below(routedPath(target.name, path))
        const kind = classify(sub)
        const route = sub?.replace(/\/$/, '')
        // Served as create, Uppy create or download only at exactly that path.
        if (body?.strategy !== undefined) expect(route, `${method} ${path} was served as /create`).toBe('/create')
        if (body?.uploadId !== undefined) expect(route, `${method} ${path} was served as /s3/multipart`).toBe('/s3/multipart')
        if (res.status === 302) expect(route, `${method} ${path} was served as /download`).toBe('/download')

        if (kind === 'not-a-route') {
          expect({ status: res.status, code: body?.code, authorized: [...authorized] }, `${method} ${path}`).toEqual({
            status: 404,
            code: passedOnCode,
            authorized: [],
          })
        }
        if (kind === 'native' || kind === 'uppy-fixed' || kind === 'uppy-id') {
          // Ours to answer (a malformed Uppy id included), never the host's 404.
          if (target.name !== fetchName) expect(body?.code, `${method} ${path}`).not.toBe('host_not_found')
        }
      }),
      { numRuns: runsFor(target.name), examples: KNOWN.flatMap((p) => [[p, 'POST'] as [string, string], [p, 'GET'] as [string, string]]) },
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Item 6 (SPEC §5.14): control characters in header-bound fields

const controlChar = fc.oneof(
  fc.constantFrom('\r', '\n', '\r\n', '\v', '\f', '\0', '\x7f', '\u0085', '\u2028', '\u2029'),
  // Every other C0 control but TAB (HTTP allows HTAB in header values), and every C1 control.
  fc
    .integer({ min: 0x00, max: 0x1f })
    .filter((c) => c !== 0x09)
    .map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0x9f }).map((c) => String.fromCharCode(c)),
)
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 12 })
/** `base` with one or more control characters spliced in at a random place. */
const withControl = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.nat(), fc.array(controlChar, { minLength: 1, maxLength: 3 })).map(([b, at, cs]) => {
    const i = at % (b.length + 1)
    return b.slice(0, i) + cs.join('') + b.slice(i)
  })

const goodType = fc.constantFrom(
  'image/png',
  'image/png; a=b',
  'image/png; a="x y"',
  'text/plain; charset=utf-8',
  'application/octet-stream',
)
const goodName = printable.map((s) => `${s}.png`)
const field = fc.constantFrom('contentType', 'filename', 'metadata') as fc.Arbitrary<'contentType' | 'filename' | 'metadata'>
const route = fc.constantFrom('/create (single)', '/create (multipart)', '/s3/params', '/s3/multipart')

const poisoned = fc.tuple(route, field).chain(([r, f]) =>
  fc.record({
    route: fc.constant(r),
    field: fc.constant(f),
    contentType: f === 'contentType' ? withControl(goodType) : goodType,
    filename: f === 'filename' ? withControl(goodName) : goodName,
    caption: f === 'metadata' ? withControl(printable) : printable,
  }),
)

describe.each(targets)('control characters through $name', (target) => {
  let listener: RequestListener
  beforeAll(() => {
    listener = target.build(options())
  })

  it('refuses a control character in contentType, filename or metadata (native and Uppy) with 400 invalid_request, unsigned and before S3', async () => {
    await fc.assert(
      fc.asyncProperty(poisoned, async (p) => {
        s3Seen.length = 0
        let res: request.Response
        if (p.route.startsWith('/create')) {
          const size = p.route === '/create (single)' ? 1000 : 6 * MiB
          res = await request(listener)
            .post('/uploads/create')
            .send({ filename: p.filename, contentType: p.contentType, size, metadata: { caption: p.caption } })
        } else if (p.route === '/s3/params') {
          res = await request(listener).get(
            `/uploads/s3/params?${new URLSearchParams({ filename: p.filename, type: p.contentType, 'metadata[caption]': p.caption })}`,
          )
        } else {
          res = await request(listener)
            .post('/uploads/s3/multipart')
            .send({ filename: p.filename, type: p.contentType, metadata: { caption: p.caption } })
        }
        const body = jsonOf(res.text)
        const observed = {
          status: res.status,
          code: body?.code,
          signed: Boolean(body && (body.url || body.uploadId || body.token || body.fields)),
          s3: [...s3Seen],
        }
        expect(observed, JSON.stringify(p)).toEqual({ status: 400, code: 'invalid_request', signed: false, s3: [] })
      }),
      { numRuns: runsFor(target.name) },
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Item 7: duplicate part numbers and batch size

/** The cap assumed here and in test/adapters/hardening.test.ts: distinct part numbers per sign-parts call. */
const MAX_SIGN_BATCH = 1000

describe.each(adapters)('sign-parts batches through $name', (target) => {
  let listener: RequestListener
  let token20: string
  let token2000: string
  beforeAll(async () => {
    listener = target.build(options())
    const start = async (parts: number) => {
      const res = await request(listener)
        .post('/uploads/create')
        .send({ filename: 'big.bin', contentType: 'application/octet-stream', size: parts * 5 * MiB })
      expect(res.status, res.text).toBe(200)
      expect(res.body.partCount).toBe(parts)
      return res.body.token as string
    }
    token20 = await start(20)
    token2000 = await start(2000)
  })

  it('answers each distinct part number exactly once (or 400), however often it repeats', async () => {
    const repeated = fc
      .tuple(fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 500 }), fc.nat())
      .map(([distinct, times, seed]) => ({
        distinct,
        numbers: Array.from({ length: Math.min(10_000, distinct.length * times) }, (_, i) => distinct[(i + seed) % distinct.length]!),
      }))
    await fc.assert(
      fc.asyncProperty(repeated, async ({ distinct, numbers }) => {
        const res = await request(listener).post('/uploads/sign-parts').send({ token: token20, partNumbers: numbers })
        if (res.status === 400) return expect(res.body.code).toBe('invalid_request')
        expect(res.status, res.text.slice(0, 300)).toBe(200)
        const answered: number[] = res.body.parts.map((p: { partNumber: number }) => p.partNumber)
        expect(answered.length, `${numbers.length} numbers, ${distinct.length} distinct`).toBe(new Set(answered).size)
        expect([...answered].sort((a, b) => a - b)).toEqual([...distinct].sort((a, b) => a - b))
      }),
      { numRuns: Math.max(10, Math.ceil(runsFor(target.name) / 5)) },
    )
  })

  it(`signs up to ${MAX_SIGN_BATCH} distinct part numbers per call and refuses more with 400`, async () => {
    // Lengths drawn explicitly: fast-check's default array sizes stay far below the cap.
    const batch = fc.tuple(fc.integer({ min: 1, max: 1500 }), fc.nat(), fc.integer({ min: 1, max: 1999 })).map(([n, offset, step]) => {
      // n distinct numbers in 1..2000, in a scrambled order (step is made coprime to 2000).
      const stride = step % 2 === 0 || step % 5 === 0 ? 1 : step
      return Array.from({ length: n }, (_, i) => ((offset + i * stride) % 2000) + 1)
    })
    await fc.assert(
      fc.asyncProperty(batch, async (numbers) => {
        const res = await request(listener).post('/uploads/sign-parts').send({ token: token2000, partNumbers: numbers })
        if (numbers.length > MAX_SIGN_BATCH) {
          expect({ status: res.status, code: res.body?.code }, `${numbers.length} distinct`).toEqual({
            status: 400,
            code: 'invalid_request',
          })
        } else {
          expect(res.status, res.text.slice(0, 300)).toBe(200)
          expect(res.body.parts).toHaveLength(numbers.length)
        }
      }),
      { numRuns: Math.max(10, Math.ceil(runsFor(target.name) / 10)) },
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Item 2 (SPEC §5.10): bodies a host's parser already read

/** What the fuzzed "parser" hands on as the parsed body for the next request. */
let preParsed: unknown

const JSON_CONTENT_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i

/** Express and Koa hosts whose own parser already read the stream and set `body` to anything. */
const preParsingHosts: Array<{ name: string; build: (o: Options) => RequestListener }> = [
  ...(
    [
      ['Express 5', express5],
      ['Express 4', express4 as unknown as typeof express5],
    ] as const
  ).map(([name, express]) => ({
    name,
    build: (o: Options) =>
      expressHost(express, o, (app) =>
        app.use((req, _res, next) => {
          req.resume()
          req.on('end', () => {
            // As body-parser marks it.
            ;(req as unknown as { _body: boolean })._body = true
            ;(req as unknown as { body: unknown }).body = preParsed
            next()
          })
        }),
      ),
  })),
  ...(
    [
      ['Koa 3', Koa3],
      ['Koa 2', Koa2 as unknown as typeof Koa3],
    ] as const
  ).map(([name, Koa]) => ({
    name,
    build(o: Options) {
      const app = new Koa()
      app.use(async (ctx, next) => {
        try {
          await next()
        } catch (err) {
          ctx.status = (err as { status?: number }).status ?? 500
          ctx.body = { code: 'host_error', message: (err as Error).message }
        }
      })
      app.use(async (ctx, next) => {
        await new Promise<void>((resolve) => {
          ctx.req.resume()
          ctx.req.on('end', resolve)
        })
        ;(ctx.request as unknown as { body: unknown }).body = preParsed
        await next()
      })
      app.use(koaMiddleware({ prefix: '/uploads', ...o }))
      app.use((ctx) => {
        ctx.status = 404
        ctx.body = { code: 'host_not_found' }
      })
      return app.callback() as RequestListener
    },
  })),
]

const createFields = { filename: 'evil.html', contentType: 'text/html', size: 6 * MiB }
const preParsedBody = fc.oneof(
  fc.constant(JSON.stringify(createFields)),
  fc.string({ maxLength: 80 }),
  fc.constant(Buffer.from(JSON.stringify(createFields))),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  // What a form parser makes: strings only (extended: nested objects too).
  fc.constant({ filename: 'evil.html', contentType: 'text/html', size: String(6 * MiB) }),
  fc.constant({ filename: 'evil.html', type: 'text/html' }),
  fc.dictionary(
    fc.constantFrom('filename', 'contentType', 'type', 'size', 'token', 'partNumbers', 'parts', 'metadata'),
    fc.oneof(fc.string({ maxLength: 20 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 })),
    { maxKeys: 5 },
  ),
  fc.constant(createFields),
  fc.constant({ filename: 'evil.html', type: 'text/html', metadata: {} }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constant(undefined),
  fc.constant({}),
)
const declaredType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.api+json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'text/plain; charset=utf-8',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'text/json',
  'application/jsonx',
  '',
)
const bodyRoute = fc.constantFrom(
  '/create',
  '/sign-parts',
  '/list-parts',
  '/complete',
  '/abort',
  '/s3/multipart',
  '/s3/multipart/UPLOAD/complete',
)

describe.each(preParsingHosts)('pre-parsed bodies through $name', (host) => {
  let listener: RequestListener
  let server: Awaited<ReturnType<typeof listen>>
  let token = ''
  let uploadPath = ''
  afterAll(() => server?.close())
  beforeAll(async () => {
    listener = host.build(options())
    server = await listen(listener)
    preParsed = { filename: 'big.bin', contentType: 'application/octet-stream', size: 6 * MiB }
    const native = await request(listener).post('/uploads/create').set('content-type', 'application/json').send('{}')
    expect(native.status, native.text).toBe(200)
    token = native.body.token
    preParsed = { filename: 'big.bin', type: 'application/octet-stream', metadata: {} }
    const uppy = await request(listener).post('/uploads/s3/multipart').set('content-type', 'application/json').send('{}')
    expect(uppy.status, uppy.text).toBe(200)
    uploadPath = `/s3/multipart/${encodeURIComponent(uppy.body.uploadId)}/complete?key=${encodeURIComponent(uppy.body.key)}`
  })
  beforeEach(() => {
    s3Seen.length = 0
  })

  it('serves a JSON request whose body was pre-parsed (control)', async () => {
    preParsed = createFields
    const res = await request(listener).post('/uploads/create').set('content-type', 'application/json').send('{}')
    expect(res.status, res.text).toBe(200)
    expect(res.body.strategy).toBe('multipart')
  })

  it('answers 415 to every non-JSON Content-Type before S3, and never 5xx, whatever the parser made of the body', async () => {
    await fc.assert(
      fc.asyncProperty(bodyRoute, declaredType, preParsedBody, fc.boolean(), async (r, contentType, parsed, withToken) => {
        preParsed =
          withToken && parsed && typeof parsed === 'object' && !Array.isArray(parsed) && !Buffer.isBuffer(parsed)
            ? { ...(parsed as object), token }
            : parsed
        s3Seen.length = 0
        const path = r === '/s3/multipart/UPLOAD/complete' ? uploadPath : r
        // Exactly the declared Content-Type (none at all included); the "parser" ignores the bytes.
        const res = await raw(server.url, 'POST', `/uploads${path}`, 'x', contentType)
        const label = `${r} as ${contentType || '(none)'} with ${Buffer.isBuffer(preParsed) ? `Buffer ${JSON.stringify(preParsed.toString('utf8'))}` : JSON.stringify(preParsed)}`
        expect(res.status, `${label}: ${res.text}`).toBeLessThan(500)
        if (res.status >= 400) expectJsonError(res)
        if (!JSON_CONTENT_TYPE.test(contentType)) {
          expect({ status: res.status, code: jsonOf(res.text)?.code, s3: [...s3Seen] }, label).toEqual({
            status: 415,
            code: 'unsupported_media_type',
            s3: [],
          })
        }
      }),
      { numRuns: runsFor(host.name) },
    )
  })
})
