import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import express from 'express'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import type { PresignOptions } from '../../src/core/options'
import { bundleForBrowser, describeBrowser, launchBrowser } from '../helpers/browser'
import { type EtagProxy, startEtagProxy } from '../helpers/etag-proxy'
import { RGW_ENDPOINT, createTestBucket, describeRgw, rgwClientConfig } from '../helpers/rgw'
import { listen } from '../helpers/targets'

/**
 * The unmodified `@uppy/core` + `@uppy/aws-s3` v5 client, bundled with esbuild and run in
 * headless Chromium, uploads through `presignMiddleware` to Ceph RGW (SPEC §4.2). The page's
 * Uppy is configured with nothing but `endpoint` and `shouldUseMultipart`.
 *
 * RGW answers a POST Object upload without the `ETag` header AWS sends, and Uppy v5 then
 * waits forever; the presigned URLs therefore target a loopback proxy that adds it
 * (test/helpers/etag-proxy.ts). Every other request passes through it unchanged.
 */

const MiB = 1024 * 1024
/** Bounded in the page, under vitest's 30 s, so a hung upload fails with Uppy's and the servers' logs. */
const UPLOAD_TIMEOUT = 20_000

/** Deterministic pseudo-random bytes (xorshift32); the same source runs in the page and here. */
const PRNG_SOURCE = `function pseudoRandomBytes(size, seed) {
  const words = new Uint32Array(Math.ceil(size / 4))
  let x = seed >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    words[i] = x
  }
  return new Uint8Array(words.buffer, 0, size)
}`
const pseudoRandomBytes = new Function(`${PRNG_SOURCE}; return pseudoRandomBytes`)() as (size: number, seed: number) => Uint8Array

interface PageResult {
  timedOut: boolean
  successful: { name: string; uploadURL?: string; body?: Record<string, unknown> }[]
  failed: { name: string; error?: string }[]
  uploadErrors: { name: string; message: string }[]
}

/** Runs in the page: builds Uppy exactly as an app would, adds a generated file, uploads. */
async function uploadInPage(
  page: Page,
  endpoint: string,
  file: { name: string; type: string; size: number; seed: number },
  timeoutMs = UPLOAD_TIMEOUT,
): Promise<PageResult> {
  return page.evaluate(
    async ({ endpoint, file, timeoutMs }) => {
      const w = window as unknown as {
        Uppy: new () => any
        AwsS3: unknown
        pseudoRandomBytes: (size: number, seed: number) => Uint8Array<ArrayBuffer>
      }
      const uppy = new w.Uppy().use(w.AwsS3, { endpoint, shouldUseMultipart: (f: { size: number }) => f.size > 5 * 1024 * 1024 })
      const uploadErrors: PageResult['uploadErrors'] = []
      uppy.on('upload-error', (f: { name: string }, error: Error) => uploadErrors.push({ name: f.name, message: error.message }))
      const completed = new Promise<any>((resolve) => uppy.on('complete', resolve))
      const bytes = w.pseudoRandomBytes(file.size, file.seed)
      uppy.addFile({ name: file.name, type: file.type, data: new File([bytes], file.name, { type: file.type }) })
      uppy.upload().catch(() => {}) // failures are reported by `complete` and `upload-error`
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs)
      })
      const result = await Promise.race([completed, timeout])
      clearTimeout(timer)
      if (result === 'timeout') {
        uppy.cancelAll()
        return { timedOut: true, successful: [], failed: [], uploadErrors }
      }
      return {
        timedOut: false,
        successful: (result.successful ?? []).map((f: any) => ({ name: f.name, uploadURL: f.response?.uploadURL, body: f.response?.body })),
        failed: (result.failed ?? []).map((f: any) => ({ name: f.name, error: String(f.error) })),
        uploadErrors,
      }
    },
    { endpoint, file, timeoutMs },
  )
}

/** Request lines with the (random) key hidden. */
function normalized(requests: string[]): string[] {
  return requests.map((r) => r.replace(/key=[^ &]+/, 'key=<key>'))
}

/** The object key from a path-style location `http://host/<bucket>/<key>`. */
function keyOf(location: string, bucket: string): string {
  const path = new URL(location).pathname
  expect(path.startsWith(`/${bucket}/`)).toBe(true)
  return decodeURIComponent(path.slice(bucket.length + 2))
}

describeRgw('Uppy v5 against Ceph RGW', () => {
  describeBrowser('the unmodified Uppy v5 client in Chromium', () => {
    let browser: Browser
    let bundle: string
    let proxy: EtagProxy
    let bucket: string
    let client: S3Client
    let cleanup: () => Promise<void>
    const servers: { close: () => Promise<void> }[] = []

    beforeAll(async () => {
      ;({ bucket, client, cleanup } = await createTestBucket('uppy-browser'))
      proxy = await startEtagProxy({ target: RGW_ENDPOINT, client })
      ;[bundle, browser] = await Promise.all([bundleForBrowser(), launchBrowser()])
    })

    afterAll(async () => {
      await browser?.close()
      await Promise.all(servers.map((s) => s.close()))
      await proxy?.close()
      await cleanup?.()
    })

    /**
     * An Express 5 app: the middleware at `/uploads` (presigning for the proxy), a page and the
     * Uppy bundle from the same origin. Records what Uppy asks the middleware, and the JSON
     * bodies of its error answers.
     */
    async function startApp(options: Partial<PresignOptions<express.Request>> = {}, s3Endpoint = proxy.url) {
      const requests: string[] = []
      const errors: { path: string; status: number; body: { code: string; message: string } }[] = []
      const app = express()
      app.get('/', (_req, res) => {
        res
          .type('html')
          .send(
            `<!doctype html><meta charset="utf-8"><title>uppy</title><script>${'window.pseudoRandomBytes = ' + PRNG_SOURCE}</script><script src="/uppy.js"></script>`,
          )
      })
      app.get('/favicon.ico', (_req, res) => {
        res.status(204).end()
      })
      app.get('/uppy.js', (_req, res) => {
        res.type('text/javascript').send(bundle)
      })
      app.use('/uploads', (req, res, next) => {
        const end = res.end.bind(res)
        res.end = ((chunk?: unknown, ...rest: unknown[]) => {
          requests.push(
            `${req.method} ${req.originalUrl.replace(/\/uploads/, '').replace(/(s3\/multipart\/)[^/?]+/, '$1<uploadId>')} -> ${res.statusCode}`,
          )
          if (res.statusCode >= 400 && chunk)
            errors.push({ path: req.originalUrl, status: res.statusCode, body: JSON.parse(String(chunk)) })
          return (end as (...a: unknown[]) => unknown)(chunk, ...rest)
        }) as typeof res.end
        next()
      })
      app.use(
        '/uploads',
        presignMiddleware({
          bucket,
          secret: 'browser-test-secret-0123456789abcdef',
          authorize: () => ({ id: 'browser-user' }),
          s3: { ...rgwClientConfig(), endpoint: s3Endpoint },
          ...options,
        }),
      )
      const server = await listen(app as unknown as Parameters<typeof listen>[0])
      servers.push(server)
      return { url: server.url, requests, errors }
    }

    async function openPage(url: string) {
      const page = await browser.newPage()
      const consoleLines: string[] = []
      page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`))
      page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`))
      await page.goto(url)
      await page.waitForFunction(() => 'Uppy' in window && 'AwsS3' in window)
      return { page, consoleLines }
    }

    function explain(result: PageResult, consoleLines: string[], requests: string[]) {
      return [
        `Uppy result: ${JSON.stringify(result)}`,
        `middleware saw:\n  ${requests.join('\n  ')}`,
        `proxy saw:\n  ${proxy.log.join('\n  ')}`,
        `page console:\n  ${consoleLines.join('\n  ')}`,
      ].join('\n')
    }

    async function expectStored(key: string, size: number, type: string, seed: number) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      expect(head.ContentLength).toBe(size)
      expect(head.ContentType).toBe(type)
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      const stored = Buffer.from(await object.Body!.transformToByteArray())
      expect(stored.length).toBe(size)
      expect(stored.equals(Buffer.from(pseudoRandomBytes(size, seed)))).toBe(true)
    }

    it('uploads a small file through GET /s3/params and a POST Object policy', async () => {
      const { url, requests } = await startApp()
      const { page, consoleLines } = await openPage(url)
      const file = { name: 'small note.txt', type: 'text/plain', size: 300 * 1024 + 7, seed: 11 }
      const result = await uploadInPage(page, `${url}/uploads`, file)
      await page.close()

      const why = explain(result, consoleLines, requests)
      expect(result.timedOut, why).toBe(false)
      expect(result.failed, why).toEqual([])
      expect(result.successful, why).toHaveLength(1)
      expect(requests, why).toEqual([expect.stringMatching(/^GET \/s3\/params\?filename=small\+note\.txt&type=text%2Fplain.* -> 200$/)])

      const location = result.successful[0]!.uploadURL!
      const key = keyOf(location, bucket)
      expect(key).toMatch(/small/)
      // The proxy completed RGW's ETag-less 204, as AWS would have answered.
      expect(proxy.patched.find((p) => p.key === key)).toMatchObject({
        status: 204,
        etag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
        location,
      })
      await expectStored(key, file.size, file.type, file.seed)
    })

    it('uploads a 12 MiB file in three multipart parts and completes it through the middleware', async () => {
      const { url, requests } = await startApp()
      const { page, consoleLines } = await openPage(url)
      const file = { name: 'big.bin', type: 'application/octet-stream', size: 12 * MiB, seed: 42 }
      const result = await uploadInPage(page, `${url}/uploads`, file)
      await page.close()

      const why = explain(result, consoleLines, requests)
      expect(result.timedOut, why).toBe(false)
      expect(result.failed, why).toEqual([])
      expect(result.successful, why).toHaveLength(1)
      // Part order varies (Uppy signs and sends up to `limit` parts at once).
      expect(normalized(requests).sort(), why).toEqual([
        'GET /s3/multipart/<uploadId>/1?key=<key> -> 200',
        'GET /s3/multipart/<uploadId>/2?key=<key> -> 200',
        'GET /s3/multipart/<uploadId>/3?key=<key> -> 200',
        'POST /s3/multipart -> 200',
        'POST /s3/multipart/<uploadId>/complete?key=<key> -> 200',
      ])

      const body = result.successful[0]!.body!
      expect(body).toMatchObject({ bucket, key: expect.any(String) })
      const key = body.key as string
      expect(keyOf(result.successful[0]!.uploadURL!, bucket)).toBe(key)
      await expectStored(key, file.size, file.type, file.seed)
    })

    it('refuses at complete a multipart file over maxFileSize, and Uppy shows our message', async () => {
      // 11 MiB allows three 5 MiB part numbers, so every part is signed and uploaded; the
      // 12 MiB total is only caught by `complete`, from the sizes S3 reports.
      const { url, requests, errors } = await startApp({ maxFileSize: 11 * MiB })
      const { page, consoleLines } = await openPage(url)
      const file = { name: 'too-big.bin', type: 'application/octet-stream', size: 12 * MiB, seed: 7 }
      const result = await uploadInPage(page, `${url}/uploads`, file)
      const why = explain(result, consoleLines, requests)
      expect(result.timedOut, why).toBe(false)
      expect(result.successful, why).toEqual([])
      expect(result.failed, why).toHaveLength(1)
      const refusal = errors.find((e) => /\/complete\?/.test(e.path))
      expect(refusal, why).toMatchObject({ status: 413, body: { code: 'file_too_large' } })
      expect(refusal!.body.message).toBe('The uploaded parts add up to 12 MiB, over the limit of 11 MiB; the upload was aborted.')
      // Uppy's error is our JSON `message`, word for word (a 4xx with `message` is user-facing).
      expect(result.uploadErrors, why).toEqual([{ name: file.name, message: refusal!.body.message }])
      expect(result.failed[0]!.error).toBe(refusal!.body.message)

      // After a failed complete Uppy fires (without awaiting it) an abort; the middleware
      // answers it although `complete` already aborted the upload on S3.
      await expect.poll(() => normalized(requests).at(-1), { timeout: 5000 }).toBe('DELETE /s3/multipart/<uploadId>?key=<key> -> 200')
      await page.close()
      expect(normalized(requests), why).toEqual([
        'POST /s3/multipart -> 200',
        ...normalized(requests).slice(1, 4).sort(),
        'POST /s3/multipart/<uploadId>/complete?key=<key> -> 413',
        'DELETE /s3/multipart/<uploadId>?key=<key> -> 200',
      ])
      expect(normalized(requests).slice(1, 4).sort()).toEqual([1, 2, 3].map((n) => `GET /s3/multipart/<uploadId>/${n}?key=<key> -> 200`))

      // Nothing was stored and the multipart upload is gone.
      const objects = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: '' }))
      expect((objects.Contents ?? []).filter((o) => o.Key?.endsWith('too-big.bin'))).toEqual([])
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
      expect(uploads.Uploads ?? []).toEqual([])
    })

    it('waits forever on a POST Object upload when RGW answers without ETag, which is why the proxy exists', async () => {
      // Presigned directly for RGW, no proxy: RGW stores the file and answers 204 with no ETag.
      const { url, requests } = await startApp({}, RGW_ENDPOINT)
      const { page, consoleLines } = await openPage(url)
      const file = { name: 'no-etag.txt', type: 'text/plain', size: 1000, seed: 3 }
      const result = await uploadInPage(page, `${url}/uploads`, file, 2500)
      await page.close()

      const why = explain(result, consoleLines, requests)
      expect(result, why).toMatchObject({ timedOut: true, uploadErrors: [] })
      expect(consoleLines.join('\n'), why).toContain('@uppy/aws-s3: Could not read the ETag header')
      // The upload itself succeeded on RGW: only the answer differs from AWS's.
      const objects = await client.send(new ListObjectsV2Command({ Bucket: bucket }))
      const stored = (objects.Contents ?? []).find((o) => o.Key?.endsWith('/no-etag.txt'))
      expect(stored, why).toBeDefined()
      await expectStored(stored!.Key!, file.size, file.type, file.seed)
    })
  })
})
