// Direct-to-S3 uploads in an Express 5 app: one `app.use` line serves every upload route.
// Two kinds of upload, each with its own limits: an avatar and a document.
//
//   npm run demo                       # embedded fake S3 (s3rver), nothing to set up
//   S3_ENDPOINT=http://127.0.0.1:8000 S3_BUCKET=demo npm run demo   # a real S3-compatible store
import { fileURLToPath, pathToFileURL } from 'node:url'
import { S3Client } from '@aws-sdk/client-s3'
import express from 'express'
import { presignMiddleware } from 's3-presign-middleware/express'
import { CLIENT_JS } from '../_shared/client-asset.mjs'
import { describeRoutes, listFiles } from '../_shared/demo-api.mjs'
import { startS3 } from '../_shared/embedded-s3.mjs'

const PUBLIC_DIR = fileURLToPath(new URL('../_shared/public/', import.meta.url))
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

  const app = express()

  app.use(
    '/uploads',
    presignMiddleware({
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

  // Demo only: the page draws an upload area per route from this, and lists each route's files.
  const client = new S3Client(s3)
  app.get('/api/upload-routes', (_req, res) => res.json(describeRoutes(ROUTES, '/uploads')))
  app.get('/api/files', async (req, res) => res.json(await listFiles(client, bucket, req.query.prefix)))

  app.get('/client.js', (_req, res) => res.type('text/javascript').sendFile(CLIENT_JS))
  app.use(express.static(PUBLIC_DIR))

  app.use((error, _req, res, _next) => {
    console.error(error)
    res.status(500).json({ code: 'internal_error', message: 'Something went wrong on the server.' })
  })

  let server
  try {
    server = await new Promise((resolve, reject) => {
      const listening = app.listen(port, host, (error) => (error ? reject(error) : resolve(listening)))
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
