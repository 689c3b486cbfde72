// One contender of the HTTP bench, in its own process: `node bench/servers/server.mjs <kind>`.
// Prints `READY <port> <json>` once it serves, the json giving the paths to load.
import { createServer } from 'node:http'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { startFakeS3, s3Config } from '../_fake-s3.mjs'

const kind = process.argv[2]
const fake = await startFakeS3()
const s3 = s3Config(fake.endpoint)
const bucket = 'bench'
const common = {
  bucket,
  s3,
  secret: 'bench-secret-0123456789',
  authorize: () => ({ id: 'bench' }),
  multipart: { threshold: 5 * 1024 ** 2 },
}
const PARAMS = { method: 'GET', path: '/uploads/s3/params?filename=photo.png&type=image%2Fpng' }
const CREATE = {
  method: 'POST',
  path: '/uploads/create',
  body: JSON.stringify({ filename: 'photo.png', contentType: 'image/png', size: 123456 }),
}

const FLOOR_PART = { method: 'GET', path: '/uploads/s3/multipart/abc/7?key=big.bin' }

/**
 * The floor's work, shared by the bare contenders: on POST /create, what a `create` cannot do
 * without (_create-floor.mjs: one random id, one AES-256-GCM tag, one token HMAC) and one URL
 * signed by the query signer alone (bundled from source: it is internal) with the headers ours
 * signs, answered as JSON with the token and headers; on part signing, one part URL. No
 * validation, no key rules, no authorization: the same work as ours, none of its checks.
 */
async function floorWork() {
  const { loadQuerySigner } = await import('../_query-signer.mjs')
  const { createFloor } = await import('../_create-floor.mjs')
  const { createQuerySigner, encodeKey } = await loadQuerySigner()
  const presign = createQuerySigner()
  const { tag: sealTag, token: tokenMac } = createFloor()
  const host = new URL(fake.endpoint).host
  const sign = (key, query, headers, length) =>
    presign(
      {
        method: 'PUT',
        protocol: 'http:',
        host,
        path: `/${bucket}/${encodeKey(key)}`,
        query: { ...query, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
        headers,
        length,
        region: 'us-east-1',
        expiresIn: 600,
        date: new Date(),
      },
      s3.credentials,
    )
  return {
    create({ filename, contentType, size }) {
      const key = `${randomUUID()}/${filename}`
      const headers = {
        'content-type': contentType,
        'if-none-match': '*',
        'x-amz-meta-presign-filename': encodeURIComponent(filename),
        'x-amz-meta-presign-nonce': sealTag(),
      }
      return { key, url: sign(key, { 'x-id': 'PutObject' }, headers, size), headers, token: tokenMac() }
    },
    part(url) {
      return {
        url: sign(url.searchParams.get('key'), { partNumber: '7', uploadId: 'abc', 'x-id': 'UploadPart' }, {}),
        expires: 600,
      }
    },
  }
}

async function listen(listener) {
  const server = createServer(listener)
  server.keepAliveTimeout = 60_000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server.address().port
}

/** An Uppy multipart upload to sign parts of, through the same server. */
async function uppyPartPath(port) {
  const res = await fetch(`http://127.0.0.1:${port}/uploads/s3/multipart`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ filename: 'big.bin', type: 'application/octet-stream', metadata: {} }),
  })
  const { uploadId, key } = await res.json()
  return `/uploads/s3/multipart/${encodeURIComponent(uploadId)}/7?key=${encodeURIComponent(key)}`
}

const kinds = {
  async 'ours-express'() {
    const { default: express } = await import('express')
    const { presignMiddleware } = await import('s3-presign-middleware/express')
    const app = express()
    app.use('/uploads', presignMiddleware(common))
    const port = await listen(app)
    return { port, create: CREATE, part: { method: 'GET', path: await uppyPartPath(port) }, params: PARAMS }
  },
  // The Express adapter is a plain (req, res, next) handler: here on bare node:http, no framework.
  async 'ours-node-http'() {
    const { presignMiddleware } = await import('s3-presign-middleware/express')
    const handler = presignMiddleware(common)
    const port = await listen((req, res) => {
      req.url = req.url.replace(/^\/uploads/, '') || '/'
      handler(req, res, () => {
        res.statusCode = 404
        res.end()
      })
    })
    return { port, create: CREATE, part: { method: 'GET', path: await uppyPartPath(port) }, params: PARAMS }
  },
  async 'ours-koa'() {
    const { default: Koa } = await import('koa')
    const { presignMiddleware } = await import('s3-presign-middleware/koa')
    const app = new Koa()
    app.use(presignMiddleware({ prefix: '/uploads', ...common }))
    const port = await listen(app.callback())
    return { port, create: CREATE, part: { method: 'GET', path: await uppyPartPath(port) }, params: PARAMS }
  },
  async 'ours-fetch'() {
    const { getRequestListener } = await import('@hono/node-server')
    const { createFetchHandler } = await import('s3-presign-middleware/fetch')
    const port = await listen(getRequestListener(createFetchHandler({ prefix: '/uploads', ...common })))
    return { port, create: CREATE, part: { method: 'GET', path: await uppyPartPath(port) }, params: PARAMS }
  },
  // What a tutorial writes: express.json() and getSignedUrl with a reused client.
  async 'handwritten-express'() {
    const { default: express } = await import('express')
    const client = new S3Client(s3)
    const app = express()
    app.use(express.json())
    app.post('/uploads/create', async (req, res, next) => {
      try {
        const { filename, contentType, size } = req.body
        const key = `${randomUUID()}/${filename}`
        const url = await getSignedUrl(
          client,
          new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType, ContentLength: size }),
          {
            expiresIn: 600,
            signableHeaders: new Set(['content-type', 'content-length']),
          },
        )
        res.json({ key, url, headers: { 'content-type': contentType } })
      } catch (error) {
        next(error)
      }
    })
    app.get('/uploads/s3/multipart/:uploadId/:partNumber', async (req, res) => {
      const url = await getSignedUrl(
        client,
        new UploadPartCommand({
          Bucket: bucket,
          Key: req.query.key,
          UploadId: req.params.uploadId,
          PartNumber: Number(req.params.partNumber),
        }),
        { expiresIn: 600 },
      )
      res.json({ url, expires: 600 })
    })
    const port = await listen(app)
    return { port, create: CREATE, part: { method: 'GET', path: '/uploads/s3/multipart/abc/7?key=big.bin' } }
  },
  // The floor: bare node:http, JSON.parse, the floor's work (floorWork), JSON.stringify.
  async 'floor-node-http'() {
    const work = await floorWork()
    const port = await listen((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify(req.method === 'POST' ? work.create(JSON.parse(body)) : work.part(new URL(req.url, 'http://x'))))
      })
    })
    return { port, create: CREATE, part: FLOOR_PART }
  },
  // The floor's work as a bare fetch handler, on the bridge ours-fetch runs on (@hono/node-server):
  // the bridge's Request/Response cost is charged to both.
  async 'bare-fetch'() {
    const work = await floorWork()
    const { getRequestListener } = await import('@hono/node-server')
    const port = await listen(
      getRequestListener(async (request) =>
        Response.json(request.method === 'POST' ? work.create(await request.json()) : work.part(new URL(request.url))),
      ),
    )
    return { port, create: CREATE, part: FLOOR_PART }
  },
  // The floor's work as a bare Express middleware mounted as ours is (`app.use('/uploads', ...)`,
  // the body read as the floor reads it, no parser): Express's mounting, routing and
  // request/response setup are charged to both.
  async 'bare-express'() {
    const work = await floorWork()
    const { default: express } = await import('express')
    const app = express()
    const reply = (res, value) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(value))
    }
    app.use('/uploads', (req, res, next) => {
      if (req.method === 'POST' && req.path === '/create') {
        let body = ''
        req.on('data', (c) => (body += c))
        req.on('end', () => reply(res, work.create(JSON.parse(body))))
      } else if (req.method === 'GET' && req.path.startsWith('/s3/multipart/')) {
        reply(res, work.part(new URL(req.url, 'http://x')))
      } else next()
    })
    const port = await listen(app)
    return { port, create: CREATE, part: FLOOR_PART }
  },
  // Uppy Companion, configured for S3 only.
  async companion() {
    const { default: express } = await import('express')
    const companion = await import('@uppy/companion')
    const port = await new Promise((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = probe.address().port
        probe.close(() => resolve(p))
      })
    })
    const { app: companionApp } = companion.app({
      s3: {
        key: s3.credentials.accessKeyId,
        secret: s3.credentials.secretAccessKey,
        bucket,
        region: 'us-east-1',
        endpoint: fake.endpoint,
        forcePathStyle: true,
        expires: 600,
        getKey: ({ filename }) => `${randomUUID()}/${filename}`,
      },
      server: { host: `127.0.0.1:${port}`, protocol: 'http' },
      filePath: mkdtempSync(join(tmpdir(), 'companion-')),
      secret: 'bench-companion-secret',
      corsOrigins: true,
      uploadUrls: [`http://127.0.0.1:${port}`],
    })
    const app = express()
    app.use('/uploads', companionApp)
    await new Promise((resolve) => app.listen(port, '127.0.0.1', resolve))
    return { port, params: PARAMS, part: { method: 'GET', path: '/uploads/s3/multipart/abc/7?key=big.bin' } }
  },
}

const ready = await kinds[kind]()
const { port, ...scenarios } = ready
console.log(`READY ${port} ${JSON.stringify(scenarios)}`)
