// Direct-to-S3 uploads in a Hono app through the fetch adapter: the same handler runs on Node
// (here, with @hono/node-server), Bun, Deno and Cloudflare Workers (see examples/runtimes/; not the
// Next.js Edge Runtime, which has no node:crypto). Mounted as a Hono handler, its hooks
// get Hono's Context as `ctx.request`, and with it the user an auth middleware set (`c.get('user')`).
//
//   npm run example:hono              # embedded fake S3 (s3rver), nothing to set up
import { readFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { createFetchHandler } from 's3-presign-middleware/fetch'
import { CLIENT_JS } from '../_shared/client-asset.mjs'
import { startS3 } from '../_shared/embedded-s3.mjs'

const PUBLIC_DIR = new URL('../_shared/public/', import.meta.url)

/**
 * Boots the store and the app.
 * @param {{ port?: number, host?: string }} [options]
 */
export async function start({ port = Number(process.env.PORT ?? 3000), host = '127.0.0.1' } = {}) {
  const store = await startS3()
  const { bucket, s3 } = store

  const uploads = createFetchHandler({
    prefix: '/uploads',
    bucket,
    s3,
    secret: process.env.PRESIGN_SECRET ?? 'demo-secret-change-me',
    // The user the auth middleware below set, or false (403) when nobody is signed in.
    authorize: ({ request: c }) => c.get('user') ?? false,
    maxFileSize: 5 * 1024 ** 3,
    // Files over 8 MiB go in parallel parts (default: over 100 MiB), so the demo shows multipart.
    multipart: { threshold: 8 * 1024 ** 2 },
    onComplete: ({ key, identity }) => ({ downloadUrl: '/uploads/download?key=' + encodeURIComponent(key), owner: identity.id }),
  })

  const app = new Hono()
  // Your auth middleware sets the signed-in user (from a session cookie, a JWT, ...). The demo
  // signs every visitor in as one demo user.
  app.use('/uploads/*', async (c, next) => {
    c.set('user', { id: 'demo-user' })
    await next()
  })
  app.all('/uploads/*', uploads)

  // Demo only: list what is in the bucket so the page can show it. A real app lists its own records.
  const client = new S3Client(s3)
  app.get('/api/files', async (c) => {
    const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }))
    return c.json(
      Contents.map(({ Key, Size, LastModified }) => ({ key: Key, size: Size, lastModified: LastModified })).sort(
        (a, b) => new Date(b.lastModified) - new Date(a.lastModified),
      ),
    )
  })
  const asset = (file, type) => async (c) => c.body(await readFile(file), 200, { 'content-type': type })
  app.get('/', asset(new URL('index.html', PUBLIC_DIR), 'text/html; charset=utf-8'))
  app.get('/app.js', asset(new URL('app.js', PUBLIC_DIR), 'text/javascript; charset=utf-8'))
  app.get('/client.js', asset(pathToFileURL(CLIENT_JS), 'text/javascript; charset=utf-8'))

  const server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s))
  })
  return {
    url: `http://${host}:${server.address().port}`,
    store,
    async close() {
      await new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections?.()
      })
      client.destroy()
      await store.close()
    },
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const demo = await start()
  console.log(`Demo running: open ${demo.url}/`)
  console.log(
    `Store: bucket "${demo.store.bucket}" on ${demo.store.external ? demo.store.endpoint : `embedded s3rver at ${demo.store.endpoint}`}`,
  )
  const stop = () => demo.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
