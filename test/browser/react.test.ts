import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { build } from 'esbuild'
import express from 'express'
import type { Browser, Page, Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import { describeBrowser, launchBrowser } from '../helpers/browser'
import { createTestBucket, describeRgw, rgwClientConfig } from '../helpers/rgw'
import { listen } from '../helpers/targets'

/**
 * `s3-presign-middleware/react`'s `useUpload` on a React 19 page bundled here with esbuild (React's
 * development build under StrictMode, so effects run twice on mount as in a dev server), driven
 * in headless Chromium: files are picked in a real `<input type="file">`, through the Express
 * middleware, to Ceph RGW. Every committed render is logged by the page, so a test sees each
 * status and progress value the user saw, in order.
 */

const MiB = 1024 * 1024
const HOOK = new URL('../../src/react/index.ts', import.meta.url).pathname

const PAGE_ENTRY = `
import { StrictMode, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { useUpload } from ${JSON.stringify(HOOK)}

const query = new URLSearchParams(location.search)
window.renders = []
window.uploads = []

function Uploader() {
  const { upload, abort, status, progress, error, result } = useUpload({
    endpoint: query.get('endpoint') ?? '/uploads',
    concurrency: 1,
    retries: Number(query.get('retries') ?? 3),
    resume: localStorage,
  })
  useEffect(() => {
    window.renders.push({ status, loaded: progress.loaded, total: progress.total })
  })
  return (
    <div>
      <input
        type="file"
        id="file"
        onChange={(e) => {
          window.uploads.push(upload(e.target.files[0]))
          e.target.value = '' // so that picking the same file again is a change
        }}
      />
      <button type="button" id="abort" onClick={abort}>Abort</button>
      <p id="status">{status}</p>
      <progress id="progress" value={progress.loaded} max={progress.total || 1} />
      <p id="error" data-code={error?.code ?? ''}>{error ? error.message : ''}</p>
      <p id="result">{result ? JSON.stringify(result) : ''}</p>
    </div>
  )
}

function App() {
  const [shown, setShown] = useState(true)
  return (
    <>
      {shown && <Uploader />}
      <button type="button" id="unmount" onClick={() => setShown(false)}>Close</button>
    </>
  )
}

createRoot(document.getElementById('root')).render(<StrictMode><App /></StrictMode>)
`

interface Render {
  status: string
  loaded: number
  total: number
}

/** Consecutive duplicates removed: the statuses as the user saw them change. */
const transitions = (renders: Render[]) => renders.map((r) => r.status).filter((s, i, all) => s !== all[i - 1])

describe('the React hook', () => {
  it('adds at most 1 KB min+gzip to the client (React external)', async () => {
    const size = async (entry: string) => {
      const out = await build({
        entryPoints: [entry],
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'browser',
        write: false,
        external: ['react'],
      })
      const code = out.outputFiles[0]!.text
      return { code, gzipped: gzipSync(code).length }
    }
    const hook = await size('src/react/index.ts')
    const client = await size('src/client/index.ts')
    console.log(`[react] ${hook.gzipped} bytes min+gzip with the client, ${hook.gzipped - client.gzipped} over the client alone`)
    expect(hook.gzipped - client.gzipped).toBeLessThanOrEqual(1024)
    expect(hook.code).toMatch(/from\s*"react"/)
    expect(hook.code).not.toMatch(/from\s*["']node:|require\(["']|react\.(production|development)/)
  })
})

describeRgw('useUpload in Chromium against RGW', () => {
  describeBrowser('a React page picking files', () => {
    let t: Awaited<ReturnType<typeof createTestBucket>>
    let server: Awaited<ReturnType<typeof listen>>
    let browser: Browser
    let dir: string

    beforeAll(async () => {
      t = await createTestBucket('react')
      dir = mkdtempSync(join(tmpdir(), 'react-upload-'))
      const script = build({
        stdin: { contents: PAGE_ENTRY, resolveDir: process.cwd(), loader: 'jsx', sourcefile: 'page.jsx' },
        bundle: true,
        platform: 'browser',
        format: 'iife',
        target: 'chrome110',
        jsx: 'automatic',
        write: false,
        logLevel: 'silent',
        define: { 'process.env.NODE_ENV': '"development"' },
      }).then((out) => out.outputFiles[0]!.text)
      const common = { bucket: t.bucket, s3: rgwClientConfig(), secret: 'react-hook-secret-0123456', authorize: () => ({ id: 'r' }) }
      const app = express()
      app.use(
        '/uploads',
        presignMiddleware({
          ...common,
          multipart: { threshold: 5 * MiB },
          maxFileSize: 64 * MiB,
          onComplete: ({ key }) => ({ stored: key }),
        }),
      )
      app.use('/tiny', presignMiddleware({ ...common, maxFileSize: 1000 }))
      const page = await script
      app.get('/page.js', (_req, res) => res.type('text/javascript').send(page))
      app.get('/', (_req, res) =>
        res
          .type('html')
          .send('<!doctype html><meta charset="utf-8"><title>react</title><div id="root"></div><script src="/page.js"></script>'),
      )
      server = await listen(app)
      browser = await launchBrowser()
    })
    afterAll(async () => {
      await browser?.close()
      await server?.close()
      await t?.cleanup()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    /** A file on disk, as a user picks one: random bytes, and their SHA-256. */
    function file(name: string, size: number): { path: string; sha: string } {
      const bytes = randomBytes(size)
      const path = join(dir, name)
      writeFileSync(path, bytes)
      return { path, sha: createHash('sha256').update(bytes).digest('hex') }
    }

    async function open(query = ''): Promise<Page & { errors: Error[] }> {
      const page = Object.assign(await browser.newPage(), { errors: [] as Error[] })
      // Uncaught errors and unhandled rejections (`upload()` must never reject).
      page.on('pageerror', (error) => page.errors.push(error))
      await page.goto(`${server.url}/${query}`)
      await page.locator('#status').getByText('idle').waitFor()
      return page
    }

    /** Holds storage's PUT of part `n` until the test lets it go: the upload is then mid-way, for as long as needed. */
    async function holdPart(page: Page, n: number): Promise<{ held: Promise<Route> }> {
      let held!: (route: Route) => void
      const route = new Promise<Route>((resolve) => (held = resolve))
      await page.route(
        (url) => url.searchParams.get('partNumber') === String(n),
        (r) => (r.request().method() === 'PUT' ? held(r) : r.continue()),
      )
      // Bounded: an upload that ends before part `n` fails here with what the page shows.
      const ended = page
        .locator('#status')
        .getByText(/^(done|error)$/)
        .waitFor({ timeout: 20_000 })
        .then(async () => {
          throw new Error(`the upload ended before part ${n}: ${await page.locator('#error').textContent()}`)
        })
      return { held: Promise.race([route, ended]) }
    }

    const status = (page: Page) => page.locator('#status').textContent()
    const renders = (page: Page) => page.evaluate(() => (window as any).renders as Render[])
    /** What each `upload()` of the page resolved to; bounded, so a hook that never settles fails the expectation instead of the timeout. */
    const settled = (page: Page) =>
      page.evaluate(() =>
        Promise.race([
          Promise.all((window as any).uploads as Promise<unknown>[]),
          new Promise((resolve) => setTimeout(() => resolve('still pending after 10 s'), 10_000)),
        ]),
      )
    const openUploads = async () => (await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket }))).Uploads ?? []
    const keys = async () => ((await t.client.send(new ListObjectsV2Command({ Bucket: t.bucket }))).Contents ?? []).map((o) => o.Key!)
    const sha = async (key: string) =>
      createHash('sha256')
        .update(await (await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))).Body!.transformToByteArray())
        .digest('hex')

    it('goes idle → uploading → done with progress rising to 100%, and shows the result', async () => {
      const page = await open()
      const size = 12 * MiB + 5 // 3 parts
      const f = file('photo.bin', size)
      await page.setInputFiles('#file', f.path)
      await page.locator('#status').getByText('done').waitFor()

      const log = await renders(page)
      expect(transitions(log)).toEqual(['idle', 'uploading', 'done'])
      const uploading = log.filter((r) => r.status === 'uploading')
      expect(uploading.every((r) => r.total === size)).toBe(true)
      const loaded = log.filter((r) => r.status !== 'idle').map((r) => r.loaded)
      expect(loaded).toEqual([...loaded].sort((a, b) => a - b))
      expect(uploading.some((r) => r.loaded > 0 && r.loaded < size)).toBe(true) // seen mid-way, not only 0 then 100%
      expect(log.at(-1)).toEqual({ status: 'done', loaded: size, total: size })
      expect(await page.locator('#progress').evaluate((p: HTMLProgressElement) => p.position)).toBe(1)

      const shown = JSON.parse((await page.locator('#result').textContent())!)
      const [returned] = (await settled(page)) as [typeof shown]
      expect(returned).toEqual(shown)
      expect(shown).toMatchObject({ size, contentType: 'application/octet-stream', result: { stored: shown.key } })
      expect(shown.key).toMatch(/photo\.bin$/)
      expect(await sha(shown.key)).toBe(f.sha)
      expect(await page.locator('#error').textContent()).toBe('')
      expect(page.errors).toEqual([])
      await page.close()
    })

    it('abort() mid-way: status aborted at once, and no multipart upload left on RGW', async () => {
      const page = await open()
      const size = 16 * MiB + 1 // 4 parts
      const part2 = (await holdPart(page, 2)).held
      await page.setInputFiles('#file', file('aborted.bin', size).path)
      const held = await part2
      expect(await status(page)).toBe('uploading')
      const position = await page.locator('#progress').evaluate((p: HTMLProgressElement) => p.position)
      expect(position).toBeGreaterThan(0)
      expect(position).toBeLessThan(1)

      await page.click('#abort')
      expect(await status(page)).toBe('aborted')
      expect(await settled(page)).toEqual([undefined]) // resolved, not rejected
      await held.abort().catch(() => {}) // the browser already cancelled it
      expect(transitions(await renders(page))).toEqual(['idle', 'uploading', 'aborted'])
      expect(await openUploads()).toEqual([])
      expect((await keys()).filter((k) => k.endsWith('aborted.bin'))).toEqual([])
      expect(await page.evaluate(() => localStorage.length)).toBe(0) // `resume` forgot it
      expect(page.errors).toEqual([])
      await page.close()
    })

    it('a file over maxFileSize: status error with the server message', async () => {
      const page = await open('?endpoint=/tiny')
      await page.setInputFiles('#file', file('too-big.bin', 2000).path)
      await page.locator('#status').getByText('error').waitFor()

      const res = await fetch(`${server.url}/tiny/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'too-big.bin', contentType: 'application/octet-stream', size: 2000 }),
      })
      const server413 = (await res.json()) as { code: string; message: string }
      expect(res.status).toBe(413)
      expect(await page.locator('#error').textContent()).toBe(server413.message)
      expect(await page.locator('#error').getAttribute('data-code')).toBe('file_too_large')
      expect(transitions(await renders(page))).toEqual(['idle', 'uploading', 'error'])
      expect(await page.locator('#result').textContent()).toBe('')
      expect(await settled(page)).toEqual([undefined])
      expect(page.errors).toEqual([])
      await page.close()
    })

    it('a newer upload replaces the one in progress: the old one is aborted and its late updates ignored', async () => {
      const page = await open()
      const part2 = (await holdPart(page, 2)).held
      // The old upload's last step (its /abort call) is held until the new one is done, so its
      // rejection arrives after: a hook that did not ignore it would show `aborted`.
      let releaseAbort!: () => void
      const abortHeld = new Promise<void>((resolve) => (releaseAbort = resolve))
      let abortCalls = 0
      await page.route('**/uploads/abort', async (route) => {
        abortCalls++
        await abortHeld
        await route.continue()
      })

      await page.setInputFiles('#file', file('old.bin', 16 * MiB).path)
      const held = await part2
      const f = file('new.bin', 1000)
      await page.setInputFiles('#file', f.path)
      await page.locator('#status').getByText('done').waitFor()
      await held.abort().catch(() => {})
      releaseAbort()
      const [old, fresh] = (await settled(page)) as [unknown, { key: string }]

      expect(old).toBeUndefined()
      expect(abortCalls).toBe(1)
      expect(await status(page)).toBe('done')
      expect(JSON.parse((await page.locator('#result').textContent())!)).toEqual(fresh)
      expect(fresh.key).toMatch(/new\.bin$/)
      expect(await sha(fresh.key)).toBe(f.sha)
      expect(transitions(await renders(page))).toEqual(['idle', 'uploading', 'done'])
      expect(await openUploads()).toEqual([])
      expect(page.errors).toEqual([])
      await page.close()
    })

    it('unmounting the component aborts its upload', async () => {
      const page = await open()
      const part2 = (await holdPart(page, 2)).held
      await page.setInputFiles('#file', file('unmounted.bin', 16 * MiB).path)
      const held = await part2
      await page.click('#unmount')
      expect(await page.locator('#status').count()).toBe(0)
      expect(await settled(page)).toEqual([undefined])
      await held.abort().catch(() => {})
      expect(await openUploads()).toEqual([])
      expect(page.errors).toEqual([])
      await page.close()
    })

    it('passes resume through: after a failed upload, picking the file again sends only the missing parts', async () => {
      const page = await open('?retries=0')
      const size = 16 * MiB + 9 // 4 parts
      const f = file('resumed.bin', size)
      await page.route('**/*', (route) => {
        const r = route.request()
        return r.method() === 'PUT' && Number(new URL(r.url()).searchParams.get('partNumber')) > 2
          ? route.abort('connectionreset')
          : route.continue()
      })
      await page.setInputFiles('#file', f.path)
      await page.locator('#status').getByText('error').waitFor()
      expect(await page.locator('#error').getAttribute('data-code')).toMatch(/^storage_/) // storage, not the server, failed
      expect(await page.evaluate(() => localStorage.length)).toBe(1)
      await page.unrouteAll()

      const partPuts: string[] = []
      page.on('request', (r) => r.method() === 'PUT' && partPuts.push(new URL(r.url()).searchParams.get('partNumber')!))
      await page.setInputFiles('#file', f.path)
      await page.locator('#status').getByText('done').waitFor()
      expect(partPuts.sort()).toEqual(['3', '4'])
      expect(transitions(await renders(page))).toEqual(['idle', 'uploading', 'error', 'uploading', 'done'])
      const { key } = JSON.parse((await page.locator('#result').textContent())!)
      expect(await sha(key)).toBe(f.sha)
      expect(await page.evaluate(() => localStorage.length)).toBe(0)
      expect(page.errors).toEqual([])
      await page.close()
    })
  })
})
