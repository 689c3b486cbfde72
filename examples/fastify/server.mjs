// Direct-to-S3 uploads in a Fastify 5 app: one `register` line serves every upload route.
//
//   npm run example:fastify                   # embedded fake S3 (s3rver), nothing to set up
//   S3_ENDPOINT=http://127.0.0.1:8000 S3_BUCKET=demo npm run example:fastify   # a real S3-compatible store
import { readFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import Fastify from 'fastify'
import { presignPlugin } from 's3-presign-middleware/fastify'
import { CLIENT_JS } from '../_shared/client-asset.mjs'
import { startS3 } from '../_shared/embedded-s3.mjs'

const PUBLIC_DIR = new URL('../_shared/public/', import.meta.url)
// The page is two files; a real app would use @fastify/static.
const PAGES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/client.js': [pathToFileURL(CLIENT_JS).href, 'text/javascript; charset=utf-8'],
}

/**
 * Boots the store and the app.
 * @param {{ port?: number, host?: string }} [options]
 */
export async function start({ port = Number(process.env.PORT ?? 3000), host = '127.0.0.1' } = {}) {
  const store = await startS3()
  const { bucket, s3 } = store

  const app = Fastify()

  // Unexpected errors (a failing hook) reach Fastify's error handler; the upload routes answer
  // their own refusals as JSON `{ code, message }`, so this one uses the same shape.
  app.setErrorHandler((error, _request, reply) => {
    console.error(error)
    reply.code(500).send({ code: 'internal_error', message: 'Something went wrong on the server.' })
  })

  app.register(presignPlugin, {
    prefix: '/uploads',
    bucket,
    s3,
    secret: process.env.PRESIGN_SECRET ?? 'demo-secret-change-me',
    // A real app returns the logged-in user ({ id }) here, e.g. from request.user, or false to refuse.
    authorize: () => true,
    maxFileSize: 5 * 1024 ** 3,
    // Files over 8 MiB go in parallel parts (default: over 100 MiB), so the demo shows multipart.
    multipart: { threshold: 8 * 1024 ** 2 },
    onComplete: ({ key }) => ({ downloadUrl: '/uploads/download?key=' + encodeURIComponent(key) }),
  })

  // Demo only: list what is in the bucket so the page can show it. A real app lists its own records.
  const client = new S3Client(s3)
  app.get('/api/files', () => listFiles(client, bucket))

  for (const [path, [file, type]] of Object.entries(PAGES)) {
    app.get(path, async (_request, reply) => reply.type(type).send(await readFile(new URL(file, PUBLIC_DIR))))
  }

  try {
    await app.listen({ port, host })
  } catch (error) {
    await store.close()
    throw error
  }
  const { port: actualPort } = app.server.address()

  return {
    url: `http://${host}:${actualPort}`,
    store,
    async close() {
      await app.close()
      client.destroy()
      await store.close()
    },
  }
}

async function listFiles(client, bucket) {
  const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }))
  return Contents.map(({ Key, Size, LastModified }) => ({ key: Key, size: Size, lastModified: LastModified })).sort(
    (a, b) => new Date(b.lastModified) - new Date(a.lastModified),
  )
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
