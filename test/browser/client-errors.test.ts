import { createServer } from 'node:http'
import { DeleteBucketCorsCommand, GetObjectCommand } from '@aws-sdk/client-s3'
import express from 'express'
import type { Browser, Page, Request } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import { describeBrowser, launchBrowser } from '../helpers/browser'
import { RGW_ENDPOINT, createTestBucket, describeRgw, rgwClientConfig } from '../helpers/rgw'
import { listen } from '../helpers/targets'

/**
 * The built client (`dist/client.js`) in headless Chromium when the browser, not a server, stops a
 * request: a page whose CSP `connect-src 'self'` excludes the bucket (helmet's default), a bucket
 * without CORS, an app endpoint that is down or outside the CSP. Each gets its own code and a
 * message naming the cause, without the retries a 5xx gets. Then a page on one origin uploading
 * through an app on another origin that authenticates by cookie (`credentials`), where S3 requests
 * never carry the cookie and a custom `fetch` keeps XMLHttpRequest for the PUTs.
 */

const MiB = 1024 * 1024
const RGW = new URL(RGW_ENDPOINT).origin

const PAGE = `<!doctype html><meta charset="utf-8"><title>client errors</title>
<script type="module">
  import { uploadFile } from '/client.js'
  window.uploadFile = uploadFile
  window.makeFile = (size, name) => new File([new Uint8Array(size).fill(7)], name, { type: 'application/octet-stream' })
  // The calls to the app, counted where the page makes them (a request the CSP blocks never reaches the network).
  window.appCalls = []
  const countingFetch = (input, init) => {
    window.appCalls.push(String(input))
    return fetch(input, init)
  }
  // Resolves to what the upload ended with, and how long it took.
  window.attempt = async (size, name, options) => {
    const started = performance.now()
    try {
      const done = await uploadFile(window.makeFile(size, name), { ...options, fetch: countingFetch })
      return { done, ms: performance.now() - started }
    } catch (e) {
      return { error: { name: e.name, code: e.code, status: e.status, message: e.message }, ms: performance.now() - started }
    }
  }
  window.ready = true
</script>`

/** An origin nothing listens on (a port just released): connections to it are refused at once. */
async function closedOrigin(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

interface Outcome {
  done?: { key: string; size: number; result: unknown }
  error?: { name: string; code: string; status: number; message: string }
  ms: number
}

describeRgw('the client in Chromium when the browser blocks a request', () => {
  describeBrowser('network-level failures, cross-origin pages and cookies', () => {
    let withCors: Awaited<ReturnType<typeof createTestBucket>>
    let noCors: Awaited<ReturnType<typeof createTestBucket>>
    let site: Awaited<ReturnType<typeof listen>> // origin A: the page (and a same-origin app)
    let api: Awaited<ReturnType<typeof listen>> // origin B: an app with cookie auth and CORS for A
    let closed: string
    let browser: Browser
    const SID = 'sid-0123456789abcdef'

    beforeAll(async () => {
      withCors = await createTestBucket('client-errors')
      noCors = await createTestBucket('client-nocors')
      await noCors.client.send(new DeleteBucketCorsCommand({ Bucket: noCors.bucket }))
      const rules = { s3: rgwClientConfig(), secret: 'client-errors-secret-0123', multipart: { threshold: 5 * MiB } }

      const a = express()
      a.use('/uploads', presignMiddleware({ ...rules, bucket: withCors.bucket, authorize: () => ({ id: 'a' }) }))
      a.use('/nocors/uploads', presignMiddleware({ ...rules, bucket: noCors.bucket, authorize: () => ({ id: 'a' }) }))
      a.get('/client.js', (_req, res) => res.type('text/javascript').sendFile(new URL('../../dist/client.js', import.meta.url).pathname))
      a.get('/', (_req, res) => res.type('html').send(PAGE))
      // helmet()'s default: scripts from the page itself, connections to the page's origin only.
      a.get('/csp', (_req, res) => res.set('content-security-policy', "connect-src 'self'").type('html').send(PAGE))
      site = await listen(a)

      const b = express()
      b.use((req, res, next) => {
        if (req.headers.origin === site.url) {
          res.set({ 'access-control-allow-origin': site.url, 'access-control-allow-credentials': 'true', vary: 'origin' })
        }
        if (req.method !== 'OPTIONS') return next()
        res.set({ 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type' }).sendStatus(204)
      })
      b.get('/login', (_req, res) => res.set('set-cookie', `sid=${SID}; Path=/; HttpOnly; SameSite=Lax`).send('ok'))
      b.use(
        '/uploads',
        presignMiddleware({
          ...rules,
          bucket: withCors.bucket,
          authorize: ({ request }) => (request.headers.cookie?.split(/;\s*/).includes(`sid=${SID}`) ? { id: 'alice' } : false),
          onComplete: ({ identity }) => ({ owner: identity.id }),
        }),
      )
      api = await listen(b)
      closed = await closedOrigin()
      browser = await launchBrowser()
    })
    afterAll(async () => {
      await browser?.close()
      await site?.close()
      await api?.close()
      await withCors?.cleanup()
      await noCors?.cleanup()
    })

    /** A fresh page at `path` of origin A, with every request it makes recorded. */
    async function open(path = '/'): Promise<{ page: Page; requests: Request[]; failed: Request[] }> {
      const page = await browser.newPage()
      const requests: Request[] = []
      const failed: Request[] = []
      page.on('request', (r) => requests.push(r))
      page.on('requestfailed', (r) => failed.push(r))
      await page.goto(`${site.url}${path}`)
      await page.waitForFunction(() => (window as any).ready === true)
      return { page, requests, failed }
    }

    const attempt = (page: Page, size: number, name: string, options: Record<string, unknown>) =>
      page.evaluate(([size, name, options]) => (window as any).attempt(size, name, options), [
        size,
        name,
        options,
      ] as const) as Promise<Outcome>
    const putsTo = (requests: Request[], origin: string) =>
      requests.filter((r) => r.method() === 'PUT' && new URL(r.url()).origin === origin)
    const settle = () => new Promise((resolve) => setTimeout(resolve, 500)) // time for any late retry to show up

    it('a page whose CSP connect-src excludes the bucket gets storage_unreachable naming connect-src, after one PUT and no retry', async () => {
      const { page, requests, failed } = await open('/csp')
      const outcome = await attempt(page, 1000, 'csp.bin', { endpoint: '/uploads' })
      await settle()
      expect(outcome.error).toEqual({
        name: 'UploadError',
        code: 'storage_unreachable',
        status: 0,
        message: `The page's Content-Security-Policy blocked the request to ${RGW}: add ${RGW} to its connect-src.`,
      })
      expect(putsTo(requests, RGW)).toHaveLength(1)
      expect(failed.map((r) => r.failure()?.errorText)).toEqual(['csp']) // Chromium's own reason: the CSP, not the store
      expect(outcome.ms).toBeLessThan(1000)
      await page.close()
    })

    it('under that CSP a multipart upload stops at the parts already started: one PUT per worker, no retries', async () => {
      const { page, requests } = await open('/csp')
      const outcome = await attempt(page, 12 * MiB, 'csp-multi.bin', { endpoint: '/uploads', concurrency: 2 })
      await settle()
      expect(outcome.error).toMatchObject({ code: 'storage_unreachable', message: expect.stringContaining('connect-src') })
      expect(putsTo(requests, RGW)).toHaveLength(2) // 3 parts, 2 workers: the third part is never started
      await page.close()
    })

    it('a bucket without CORS gets storage_unreachable naming CORS, the doctor and connect-src, after one retry', async () => {
      const { page, requests } = await open('/')
      const outcome = await attempt(page, 1000, 'nocors.bin', { endpoint: '/nocors/uploads' })
      await settle()
      expect(outcome.error).toEqual({
        name: 'UploadError',
        code: 'storage_unreachable',
        status: 0,
        message: `Storage at ${RGW} gave no answer to the upload. Check the bucket's CORS for this page's origin (npx s3-presign-middleware doctor --bucket <bucket> --origin ${site.url} --fix), the page's Content-Security-Policy (connect-src must include ${RGW}), and that the store is reachable.`,
      })
      expect(putsTo(requests, RGW)).toHaveLength(2) // not the 4 that `retries: 3` gives a 5xx
      expect(outcome.ms).toBeLessThan(3000) // two preflights and one backoff of at most 250 ms
      await page.close()
    })

    it('a connection dropped on the first PUT still gets through on the retry', async () => {
      const { page, requests } = await open('/')
      let dropped = false
      await page.route(`${RGW}/**`, (route) => {
        if (route.request().method() !== 'PUT' || dropped) return route.continue()
        dropped = true
        return route.abort('connectionreset')
      })
      const outcome = await attempt(page, 1000, 'drop.bin', { endpoint: '/uploads' })
      expect(outcome.error).toBeUndefined()
      expect(outcome.done).toMatchObject({ size: 1000 })
      expect(putsTo(requests, RGW)).toHaveLength(2)
      await page.close()
    })

    it('an app endpoint that is down gives network_error naming the causes, after one retry', async () => {
      const { page, requests } = await open('/')
      const outcome = await attempt(page, 1000, 'down.bin', { endpoint: `${closed}/uploads` })
      await settle()
      expect(outcome.error).toEqual({
        name: 'UploadError',
        code: 'network_error',
        status: 0,
        message: `The server at ${closed}/uploads/create gave no answer: it is down or unreachable, or the browser blocked the request (the page's Content-Security-Policy connect-src, or CORS on an endpoint of another origin).`,
      })
      expect(await page.evaluate(() => (window as any).appCalls)).toEqual([`${closed}/uploads/create`, `${closed}/uploads/create`])
      expect(requests.filter((r) => r.url() === `${closed}/uploads/create`)).toHaveLength(2)
      await page.close()
    })

    it("an app endpoint outside the page's connect-src gives network_error naming connect-src, without a retry", async () => {
      const { page, requests } = await open('/csp')
      const outcome = await attempt(page, 1000, 'api-csp.bin', { endpoint: `${api.url}/uploads`, credentials: 'include' })
      await settle()
      expect(outcome.error).toEqual({
        name: 'UploadError',
        code: 'network_error',
        status: 0,
        message: `The page's Content-Security-Policy blocked the request to ${api.url}: add ${api.url} to its connect-src.`,
      })
      expect(await page.evaluate(() => (window as any).appCalls)).toEqual([`${api.url}/uploads/create`])
      expect(requests.filter((r) => r.url().startsWith(api.url))).toHaveLength(0) // Chromium never sent it
      await page.close()
    })

    describeBrowser('a page on origin A, the app on origin B with cookie auth', () => {
      async function loggedIn() {
        const opened = await open('/')
        await opened.page.goto(`${api.url}/login`) // B sets its session cookie (host 127.0.0.1: RGW's host too)
        await opened.page.goto(site.url)
        await opened.page.waitForFunction(() => (window as any).ready === true)
        opened.requests.length = 0
        return opened
      }

      it("uploads with credentials: 'include'; S3's PUTs carry no cookie and go by XHR, even with a custom fetch", async () => {
        const { page, requests } = await loggedIn()
        // Loopback is too fast for progress events inside a part: slow uploads to 16 MiB/s.
        const cdp = await page.context().newCDPSession(page)
        await cdp.send('Network.enable')
        await cdp.send('Network.emulateNetworkConditions', {
          offline: false,
          latency: 0,
          downloadThroughput: -1,
          uploadThroughput: 16 * MiB,
        })
        const outcome = await page.evaluate(
          async ([endpoint, size]) => {
            const routes: string[] = []
            const progress: number[] = []
            const done = await (window as any).uploadFile((window as any).makeFile(size, 'cross.bin'), {
              endpoint,
              credentials: 'include',
              concurrency: 1,
              fetch: (input: string, init: RequestInit) => {
                routes.push(new URL(input).pathname)
                return fetch(input, init)
              },
              onProgress: ({ loaded }: { loaded: number }) => progress.push(loaded),
            })
            return { done, routes, progress }
          },
          [`${api.url}/uploads`, 6 * MiB + 3] as const,
        )
        expect(outcome.done).toMatchObject({ size: 6 * MiB + 3, result: { owner: 'alice' } })
        expect(outcome.routes).toEqual(['/uploads/create', '/uploads/sign-parts', '/uploads/complete'])
        const body = await (
          await withCors.client.send(new GetObjectCommand({ Bucket: withCors.bucket, Key: outcome.done.key }))
        ).Body!.transformToByteArray()
        expect(body.length).toBe(6 * MiB + 3)

        const appCalls = requests.filter((r) => r.method() === 'POST' && r.url().startsWith(api.url))
        expect(appCalls).toHaveLength(3)
        for (const r of appCalls) expect((await r.allHeaders()).cookie).toBe(`sid=${SID}`)
        const puts = putsTo(requests, RGW)
        expect(puts).toHaveLength(2)
        for (const r of puts) {
          expect(r.resourceType()).toBe('xhr') // the custom fetch did not take the PUTs: progress stays byte-level
          expect(Object.keys(await r.allHeaders())).not.toContain('cookie')
        }
        // XHR reports bytes within part 1, not only whole parts (what fetch would give).
        expect(outcome.progress.filter((loaded: number) => loaded > 0 && loaded < 5 * MiB).length).toBeGreaterThanOrEqual(2)
        await page.close()
      })

      it("gets 403 forbidden without credentials: the cookie stays home ('same-origin' by default)", async () => {
        const { page, requests } = await loggedIn()
        const outcome = await attempt(page, 1000, 'nocookie.bin', { endpoint: `${api.url}/uploads` })
        expect(outcome.error).toMatchObject({ name: 'UploadError', code: 'forbidden', status: 403 })
        const create = requests.find((r) => r.url() === `${api.url}/uploads/create` && r.method() === 'POST')!
        expect((await create.allHeaders()).cookie).toBeUndefined()
        expect(putsTo(requests, RGW)).toHaveLength(0)
        await page.close()
      })
    })
  })
})
