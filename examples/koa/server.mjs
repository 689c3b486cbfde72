// Direct-to-S3 uploads in a Koa 3 app: one `app.use` line serves every upload route.
// Two kinds of upload, each with its own limits: an avatar and a document.
//
//   npm run example:koa                   # embedded fake S3 (s3rver), nothing to set up
//   S3_ENDPOINT=http://127.0.0.1:8000 S3_BUCKET=demo npm run example:koa   # a real S3-compatible store
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { pathToFileURL } from 'node:url'
import { S3Client } from '@aws-sdk/client-s3'
import Koa from 'koa'
import { presignMiddleware } from 's3-presign-middleware/koa'
import { CLIENT_JS } from '../_shared/client-asset.mjs'
import { describeRoutes, listFiles } from '../_shared/demo-api.mjs'
import { startS3 } from '../_shared/embedded-s3.mjs'

const PUBLIC_DIR = new URL('../_shared/public/', import.meta.url)
// The page is two files; a real app would use koa-static or its own asset pipeline.
const PAGES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/client.js': [pathToFileURL(CLIENT_JS).href, 'text/javascript; charset=utf-8'],
}
const MiB = 1024 ** 2

// Each route lives under /uploads/<name>/: the page's client (and Uppy) take `endpoint: '/uploads/avatar'`.
// A file over a route's limits is refused before anything is signed; S3 refuses bytes other than the signed ones.
const ROUTES = {
  avatar: {
    keyPrefix: 'avatars/',
    allowedContentTypes: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
    maxFileSize: 1 * MiB,
  },
  document: {
    keyPrefix: 'documents/',
    allowedContentTypes: ['application/pdf', 'text/plain', 'text/markdown'],
    maxFileSize: 10 * MiB,
  },
}

/**
 * Boots the store and the app.
 * @param {{ port?: number, host?: string }} [options]
 */
export async function start({ port = Number(process.env.PORT ?? 3000), host = '127.0.0.1' } = {}) {
  const store = await startS3()
  const { bucket, s3 } = store

  const app = new Koa()

  // Answers unexpected errors with the same JSON shape the upload routes use.
  app.use(async (ctx, next) => {
    try {
      await next()
    } catch (error) {
      ctx.app.emit('error', error, ctx)
      ctx.status = 500
      ctx.body = { code: 'internal_error', message: 'Something went wrong on the server.' }
    }
  })

  app.use(
    presignMiddleware({
      prefix: '/uploads',
      bucket,
      s3,
      secret: process.env.PRESIGN_SECRET ?? 'demo-secret-change-me',
      // A real app returns the logged-in user ({ id }) here, or false to refuse.
      authorize: () => true,
      routes: ROUTES,
      // Files over 8 MiB go in parallel parts (default: over 100 MiB), so a large document shows multipart.
      multipart: { threshold: 8 * MiB },
      // Runs for either route once the file is verified on S3; the page shows this link.
      onComplete: ({ key, route }) => ({ downloadUrl: `/uploads/${route}/download?key=${encodeURIComponent(key)}` }),
    }),
  )

  // Demo only: the page draws an upload area per route from /api/upload-routes, and lists each
  // route's files from /api/files.
  const client = new S3Client(s3)
  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next()
    if (ctx.path === '/api/upload-routes') {
      ctx.body = describeRoutes(ROUTES, '/uploads')
      return
    }
    if (ctx.path === '/api/files') {
      ctx.body = await listFiles(client, bucket, ctx.query.prefix)
      return
    }
    const page = PAGES[ctx.path]
    if (!page) return next()
    ctx.type = page[1]
    ctx.body = await readFile(new URL(page[0], PUBLIC_DIR))
  })

  const server = createServer(app.callback())
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await store.close()
    throw error
  }
  const { port: actualPort } = server.address()

  return {
    url: `http://${host}:${actualPort}`,
    store,
    async close() {
      await new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      client.destroy()
      await store.close()
    },
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const demo = await start()
  const where = demo.store.external ? `${demo.store.endpoint} (S3_ENDPOINT)` : `embedded s3rver at ${demo.store.endpoint}`
  console.log(`Demo running: open ${demo.url}/`)
  console.log(`Store: bucket "${demo.store.bucket}" on ${where}`)
  const stop = () => demo.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
