// Uppy's Dashboard, unmodified, on the middleware: `new AwsS3({ endpoint: '/uploads' })` is all
// the wiring. Uppy is bundled at start-up with esbuild here; a real app uses its own bundler.
//
//   npm run example:uppy
import { pathToFileURL, fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import express from 'express'
import { presignMiddleware } from 's3-presign-middleware/express'
import { startS3 } from '../_shared/embedded-s3.mjs'

const HERE = fileURLToPath(new URL('.', import.meta.url))

/** The browser code: Uppy core, Dashboard and AWS S3 plugin, as any app would write it. */
const ENTRY = `
import Uppy from '@uppy/core'
import Dashboard from '@uppy/dashboard'
import AwsS3 from '@uppy/aws-s3'
import '@uppy/core/css/style.min.css'
import '@uppy/dashboard/css/style.min.css'

const uppy = new Uppy({ autoProceed: false })
  .use(Dashboard, { inline: true, target: '#uppy', proudlyDisplayPoweredByUppy: false, height: 420 })
  // Multipart for every file, so that each one reaches onComplete (Uppy's POST path never calls back).
  .use(AwsS3, { endpoint: '/uploads', shouldUseMultipart: () => true })
uppy.on('complete', (result) => {
  document.querySelector('#result').textContent = result.successful.map((f) => f.name + ' uploaded').join(', ')
})
window.uppy = uppy
`

const PAGE = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Uppy on s3-presign-middleware</title>
<link rel="stylesheet" href="/uppy.css">
<body style="font-family: system-ui, sans-serif; max-width: 760px; margin: 2rem auto">
<h1>Uppy Dashboard, straight to S3</h1>
<div id="uppy"></div>
<p id="result" role="status"></p>
<script src="/uppy.js"></script>
</body></html>`

export async function bundle() {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: HERE, loader: 'js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    minify: true,
    write: false,
    outdir: 'out',
    loader: { '.css': 'css' },
    logLevel: 'silent',
  })
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? ''
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? ''
  return { js, css }
}

export async function start({ port = Number(process.env.PORT ?? 3000), host = '127.0.0.1' } = {}) {
  const [store, assets] = await Promise.all([startS3(), bundle()])
  const app = express()
  app.use(
    '/uploads',
    presignMiddleware({
      bucket: store.bucket,
      s3: store.s3,
      secret: process.env.PRESIGN_SECRET ?? 'demo-secret-change-me',
      authorize: () => true,
      onComplete: ({ key, size }) => {
        console.log(`[uppy example] stored ${key} (${size} bytes)`)
        return { key }
      },
    }),
  )
  app.get('/', (_req, res) => res.type('html').send(PAGE))
  app.get('/uppy.js', (_req, res) => res.type('text/javascript').send(assets.js))
  app.get('/uppy.css', (_req, res) => res.type('text/css').send(assets.css))
  const server = await new Promise((resolve) => {
    const s = app.listen(port, host, () => resolve(s))
  })
  return {
    url: `http://${host}:${server.address().port}`,
    store,
    async close() {
      await new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await store.close()
    },
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const demo = await start()
  console.log(`Uppy example running: open ${demo.url}/`)
  const stop = () => demo.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
