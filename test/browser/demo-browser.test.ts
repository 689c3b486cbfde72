import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { bundleForBrowser, describeBrowser, launchBrowser } from '../helpers/browser'
import { RGW_ENDPOINT, createTestBucket, describeRgw, rgwClientConfig, s3ErrorCode } from '../helpers/rgw'

/**
 * The demo page (`npm run demo`: examples/express) as a person uses it, in headless Chromium, on
 * the embedded s3rver and on Ceph RGW (through the example's S3_ENDPOINT settings). The page has
 * an upload area per route (issue 13 item 6): "Avatar" (PNG, JPEG, WebP or GIF up to 1 MiB) and
 * "Document" (PDF or text up to 10 MiB), each uploading with the package's client and nothing per
 * route but `endpoint`. An unmodified Uppy uploads to `/uploads/avatar` on the same server.
 * Saves test-artifacts/demo.png (RGW) and test-artifacts/demo-embedded.png.
 */

const MiB = 1024 * 1024
const UPLOAD_TIMEOUT = 20_000

interface Demo {
  url: string
  store: { endpoint: string; bucket: string; s3: S3ClientConfig }
  close(): Promise<void>
}

interface PickedFile {
  name: string
  mimeType: string
  buffer: Buffer
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/**
 * The page tests, run once per store. `useStore` sets the example's S3_* environment (and makes
 * what it needs); what it returns releases it.
 */
function demoPageSuite(screenshot: string, useStore: () => Promise<() => Promise<void>>) {
  let browser: Browser
  let demo: Demo
  let s3: S3Client
  let releaseStore: (() => Promise<void>) | undefined
  const pngBytes: { value?: Buffer } = {}

  beforeAll(async () => {
    releaseStore = await useStore()
    // @ts-expect-error: a plain JavaScript example, imported as a user would run it
    const { start } = await import('../../examples/express/server.mjs')
    demo = await start({ port: 0 })
    s3 = new S3Client(demo.store.s3)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    s3?.destroy()
    await demo?.close()
    await releaseStore?.()
    vi.unstubAllEnvs()
  })

  /** The demo page, loaded, with its upload areas drawn; every request it makes is recorded. */
  async function openPage() {
    const page = await browser.newPage()
    const errors: string[] = []
    const requests: { method: string; url: string }[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }))
    await page.goto(demo.url)
    await page.waitForSelector('#avatar-file')
    await page.waitForSelector('#document-file')
    const toStore = () => requests.filter((r) => new URL(r.url).origin === new URL(demo.store.endpoint).origin)
    return { page, errors, requests, toStore }
  }

  /** Picks a file in one route's area, presses Upload, and waits for the outcome the page shows. */
  async function upload(page: Page, route: string, file: PickedFile) {
    await page.setInputFiles(`#${route}-file`, file)
    await page.click(`#${route}-upload`)
    await page.waitForFunction((id) => /^(done|error)$/.test(document.getElementById(id)?.dataset.state ?? ''), `${route}-status`, {
      timeout: UPLOAD_TIMEOUT,
    })
    return {
      state: await page.getAttribute(`#${route}-status`, 'data-state'),
      text: await page.textContent(`#${route}-status`),
      progress: await page.$eval(`#${route}-progress`, (p) => (p as HTMLProgressElement).value),
    }
  }

  /** Follows a download link in the page (302 to a presigned GET on the store) and hashes what came back. */
  function downloadHash(page: Page, href: string) {
    // Hashed in the page: shipping megabytes back as JSON numbers would take longer than the upload.
    return page.evaluate(async (url) => {
      const digest = await crypto.subtle.digest('SHA-256', await (await fetch(url)).arrayBuffer())
      return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
    }, href)
  }

  async function keysUnder(prefix: string) {
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: demo.store.bucket, Prefix: prefix }))
    return Contents.map((o) => o.Key!)
  }

  it('draws an area per route with the limits the server enforces, from GET /api/upload-routes', async () => {
    const described = await (await fetch(`${demo.url}/api/upload-routes`)).json()
    expect(described).toEqual([
      {
        name: 'avatar',
        endpoint: '/uploads/avatar',
        allowedContentTypes: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
        maxFileSize: MiB,
        files: '/api/files?prefix=avatars%2F',
      },
      {
        name: 'document',
        endpoint: '/uploads/document',
        allowedContentTypes: ['application/pdf', 'text/plain', 'text/markdown'],
        maxFileSize: 10 * MiB,
        files: '/api/files?prefix=documents%2F',
      },
    ])
    const { page, errors } = await openPage()
    expect(await page.$$eval('#routes > section', (s) => s.map((e) => (e as HTMLElement).dataset.route))).toEqual(['avatar', 'document'])
    expect(await page.textContent('#avatar-title')).toBe('Avatar')
    expect(await page.textContent('#avatar-limits')).toBe('image/png, image/jpeg, image/webp, image/gif · up to 1 MiB')
    expect(await page.textContent('#document-title')).toBe('Document')
    expect(await page.textContent('#document-limits')).toBe('application/pdf, text/plain, text/markdown · up to 10 MiB')
    // Each label names its own picker, so the two areas stay usable with a screen reader.
    expect(await page.getAttribute('label[for="avatar-file"]', 'id')).toBe('avatar-label')
    expect(errors).toEqual([])
    await page.close()
  })

  it('uploads a PNG avatar straight to the store; the link onComplete returned downloads the same bytes', async () => {
    const { page, errors, toStore } = await openPage()
    // A real PNG image: Chromium's own rendering of a corner of the page.
    pngBytes.value = await page.screenshot({ clip: { x: 0, y: 0, width: 96, height: 96 } })
    const outcome = await upload(page, 'avatar', { name: 'me.png', mimeType: 'image/png', buffer: pngBytes.value })
    expect(outcome).toMatchObject({ state: 'done', progress: 100 })
    expect(outcome.text).toBe(`Uploaded me.png (${pngBytes.value.length} bytes). Download`)
    // The bytes went from the browser to the store, not through the app.
    expect(toStore().filter((r) => r.method === 'PUT')).toHaveLength(1)

    const href = (await page.getAttribute('#avatar-status a', 'href'))!
    expect(href).toMatch(/^\/uploads\/avatar\/download\?key=avatars%2F[0-9a-f-]{36}%2Fme\.png$/)
    expect(await downloadHash(page, href)).toBe(sha256(pngBytes.value))
    await page.waitForSelector('#avatar-files a')
    expect(await page.textContent('#avatar-files')).toContain('me.png')
    expect(await page.textContent('#document-files')).not.toContain('me.png')
    expect(errors).toEqual([])
    await page.close()
  })

  it("shows each route's refusal: a text file as avatar, an image as document", async () => {
    const { page, errors, toStore } = await openPage()
    const avatarCreate = page.waitForResponse(`${demo.url}/uploads/avatar/create`)
    const avatar = await upload(page, 'avatar', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') })
    expect((await avatarCreate).status()).toBe(415)
    expect(avatar).toEqual({ state: 'error', text: 'Files of type text/plain are not allowed.', progress: 0 })

    const documentCreate = page.waitForResponse(`${demo.url}/uploads/document/create`)
    const document = await upload(page, 'document', { name: 'photo.png', mimeType: 'image/png', buffer: randomBytes(1000) })
    expect((await documentCreate).status()).toBe(415)
    expect(document).toEqual({ state: 'error', text: 'Files of type image/png are not allowed.', progress: 0 })

    expect(toStore()).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })

  it('refuses an image over the avatar limit at create, before any byte reaches the store, and names the limit', async () => {
    const { page, errors, toStore } = await openPage()
    const created = page.waitForResponse(`${demo.url}/uploads/avatar/create`)
    const outcome = await upload(page, 'avatar', { name: 'huge.png', mimeType: 'image/png', buffer: randomBytes(2 * MiB) })
    const response = await created
    // The server refused it from the declared size: nothing was signed, so the browser never
    // contacted the store (the accepted avatar above did). S3's own refusal of a client that lies
    // about the size is the RGW-only test below.
    expect(response.status()).toBe(413)
    expect(await response.json()).toEqual({ code: 'file_too_large', message: 'This file is 2 MiB; the limit is 1 MiB.' })
    expect(outcome).toEqual({ state: 'error', text: 'This file is 2 MiB; the limit is 1 MiB.', progress: 0 })
    expect(toStore()).toEqual([])
    expect((await keysUnder('avatars/')).filter((k) => k.endsWith('/huge.png'))).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })

  it('uploads a 9 MiB PDF document in parallel parts with progress to 100%, and its link downloads the same bytes', async () => {
    const { page, errors, requests, toStore } = await openPage()
    const bytes = randomBytes(9 * MiB)
    const outcome = await upload(page, 'document', { name: 'annual report.pdf', mimeType: 'application/pdf', buffer: bytes })
    expect(outcome).toMatchObject({ state: 'done', progress: 100 })
    expect(outcome.text).toBe('Uploaded annual report.pdf (9 MiB). Download')
    // Over the 8 MiB threshold: two parts (5 MiB + 4 MiB), signed by this route.
    expect(requests.some((r) => r.url === `${demo.url}/uploads/document/sign-parts`)).toBe(true)
    expect(toStore().filter((r) => r.method === 'PUT' && /[?&]partNumber=\d/.test(r.url))).toHaveLength(2)

    const href = (await page.getAttribute('#document-status a', 'href'))!
    expect(href).toMatch(/^\/uploads\/document\/download\?key=documents%2F/)
    expect(await downloadHash(page, href)).toBe(sha256(bytes))
    await page.waitForSelector('#document-files a')
    expect(await page.textContent('#document-files')).toContain('annual report.pdf')

    // The avatar area beside it shows a refusal, for the screenshot of both outcomes.
    await upload(page, 'avatar', { name: 'huge.png', mimeType: 'image/png', buffer: randomBytes(2 * MiB) })
    mkdirSync('test-artifacts', { recursive: true })
    writeFileSync(screenshot, await page.screenshot({ fullPage: true }))
    expect(errors).toEqual([])
    await page.close()
  })

  it('an unmodified Uppy at /uploads/avatar uploads a PNG and shows the refusal of a text file', async () => {
    const { page, errors } = await openPage()
    await page.addScriptTag({ content: await bundleForBrowser() })
    const png = pngBytes.value ?? (await page.screenshot({ clip: { x: 0, y: 0, width: 64, height: 64 } }))
    const result = await page.evaluate(
      async ({ png, timeoutMs }) => {
        const w = window as unknown as { Uppy: new () => any; AwsS3: unknown }
        // Nothing per route but the endpoint; multipart for every file, as the README's Uppy snippet says.
        const uppy = new w.Uppy().use(w.AwsS3, { endpoint: '/uploads/avatar', shouldUseMultipart: () => true })
        const uploadErrors: { name: string; message: string }[] = []
        uppy.on('upload-error', (f: { name: string }, error: Error) => uploadErrors.push({ name: f.name, message: error.message }))
        uppy.addFile({ name: 'uppy.png', type: 'image/png', data: new Blob([new Uint8Array(png)], { type: 'image/png' }) })
        uppy.addFile({ name: 'uppy.txt', type: 'text/plain', data: new Blob(['not a picture'], { type: 'text/plain' }) })
        const completed = new Promise<any>((resolve) => uppy.on('complete', resolve))
        uppy.upload().catch(() => {}) // failures are reported by `complete` and `upload-error`
        const done = await Promise.race([completed, new Promise<undefined>((resolve) => setTimeout(resolve, timeoutMs))])
        if (!done) uppy.cancelAll()
        return {
          timedOut: !done,
          successful: (done?.successful ?? []).map((f: any) => f.name),
          failed: (done?.failed ?? []).map((f: any) => ({ name: f.name, error: String(f.error) })),
          uploadErrors,
        }
      },
      { png: [...png], timeoutMs: UPLOAD_TIMEOUT },
    )
    expect(result).toEqual({
      timedOut: false,
      successful: ['uppy.png'],
      failed: [{ name: 'uppy.txt', error: 'Files of type text/plain are not allowed.' }],
      uploadErrors: [{ name: 'uppy.txt', message: 'Files of type text/plain are not allowed.' }],
    })
    // The route's rules applied: the PNG is under the avatar prefix, byte for byte.
    const [key, ...others] = (await keysUnder('avatars/')).filter((k) => k.endsWith('/uppy.png'))
    expect(others).toEqual([])
    const object = await s3.send(new GetObjectCommand({ Bucket: demo.store.bucket, Key: key }))
    expect(object.ContentType).toBe('image/png')
    expect(sha256(await object.Body!.transformToByteArray())).toBe(sha256(png))
    expect(errors).toEqual([])
    await page.close()
  })

  return {
    get demo() {
      return demo
    },
    get s3() {
      return s3
    },
    openPage,
  }
}

describeBrowser('the demo page on the embedded store (s3rver), in Chromium', () => {
  demoPageSuite('test-artifacts/demo-embedded.png', async () => {
    // The example's own s3rver on a free port with a temp data dir, whatever the shell says.
    vi.stubEnv('S3_ENDPOINT', undefined)
    vi.stubEnv('DEMO_S3_PORT', '0')
    vi.stubEnv('DEMO_S3_DIR', undefined)
    return async () => {}
  })
})

describeRgw('the demo page on RGW', () =>
  describeBrowser('in Chromium', () => {
    const suite = demoPageSuite('test-artifacts/demo.png', async () => {
      const bucket = await createTestBucket('demo-page')
      const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
      vi.stubEnv('S3_ENDPOINT', RGW_ENDPOINT)
      vi.stubEnv('S3_BUCKET', bucket.bucket)
      vi.stubEnv('S3_REGION', 'us-east-1')
      vi.stubEnv('S3_ACCESS_KEY_ID', credentials.accessKeyId)
      vi.stubEnv('S3_SECRET_ACCESS_KEY', credentials.secretAccessKey)
      // The example says it uses an existing bucket (and how to set its CORS up): not this test's subject.
      const log = vi.spyOn(console, 'log').mockImplementation(() => {})
      return async () => {
        log.mockRestore()
        await bucket.cleanup()
      }
    })

    it('RGW itself refuses more bytes than an avatar upload declared, so bypassing the page does not lift the limit', async () => {
      const { demo, s3 } = suite
      // A client that declares 1 KiB to the avatar route and sends 2 MiB to the URL it got.
      const created = await (
        await fetch(`${demo.url}/uploads/avatar/create`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ filename: 'liar.png', contentType: 'image/png', size: 1024 }),
        })
      ).json()
      // node:http, not fetch: RGW answers before reading the whole body, and fetch reports that as
      // a network error instead of the answer.
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const headers = { ...created.headers, 'content-length': String(2 * MiB) }
        const req = httpRequest(created.url, { method: 'PUT', headers }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk) => {
            body += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', (error) => (/EPIPE|ECONNRESET/.test(String(error)) ? undefined : reject(error)))
        req.end(randomBytes(2 * MiB)) // framed honestly: the lie is in the declared size only
      })
      expect(answer.status).toBe(403)
      expect(s3ErrorCode(answer.body)).toBe('SignatureDoesNotMatch')
      await expect(s3.send(new HeadObjectCommand({ Bucket: demo.store.bucket, Key: created.key }))).rejects.toThrow()
    })
  }),
)

/**
 * The same page on an example that mounts one upload kind at /uploads (examples/fastify: no
 * GET /api/upload-routes): one area, "File", with no limits shown, still uploads.
 */
describeBrowser('the demo page on an example without routes (fastify), in Chromium', () => {
  let browser: Browser
  let app: { url: string; close(): Promise<void> }

  beforeAll(async () => {
    vi.stubEnv('S3_ENDPOINT', undefined)
    vi.stubEnv('DEMO_S3_PORT', '0')
    vi.stubEnv('DEMO_S3_DIR', undefined)
    // @ts-expect-error: a plain JavaScript example, imported as a user would run it
    const { start } = await import('../../examples/fastify/server.mjs')
    app = await start({ port: 0 })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await app?.close()
    vi.unstubAllEnvs()
  })

  it('draws one upload area at /uploads and uploads through it', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(app.url)
    await page.waitForSelector('#uploads-file')
    expect(await page.$$eval('#routes > section', (s) => s.map((e) => (e as HTMLElement).dataset.route))).toEqual(['uploads'])
    expect(await page.textContent('#uploads-title')).toBe('Uploads')
    expect(await page.textContent('#uploads-limits')).toBe('')
    await page.setInputFiles('#uploads-file', { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') })
    await page.click('#uploads-upload')
    await page.waitForFunction(() => document.getElementById('uploads-status')?.dataset.state === 'done', undefined, {
      timeout: UPLOAD_TIMEOUT,
    })
    expect(await page.textContent('#uploads-status')).toBe('Uploaded hello.txt (5 bytes). Download')
    expect(await page.getAttribute('#uploads-status a', 'href')).toMatch(/^\/uploads\/download\?key=/)
    await page.waitForSelector('#uploads-files a')
    expect(await page.textContent('#uploads-files')).toContain('hello.txt')
    expect(errors).toEqual([])
    await page.close()
  })
})
