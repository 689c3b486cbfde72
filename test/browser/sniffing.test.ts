import type { RequestListener } from 'node:http'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import express, { type NextFunction, type Request, type Response } from 'express'
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import type { PresignOptions } from '../../src/core/options'
import { callApp } from '../helpers/app-call'
import { describeBrowser, launchBrowser } from '../helpers/browser'
import { createTestBucket, describeRgw, putRaw, rgwClientConfig } from '../helpers/rgw'
import { listen } from '../helpers/targets'

/**
 * MIME sniffing (SPEC §5.13: script-capable types served inline from the bucket's
 * origin), in headless Chromium against Ceph RGW. An outside attack uploaded an HTML page with a
 * script as `application/unknown` (also `Application/Unknown`, `unknown/unknown`): the default
 * options admit any type and `image/*`, `application/*` or `*\/*` admitted these, `/complete`
 * answered 200, and `GET /download` redirected to a presigned GET without
 * `response-content-disposition`. Chromium sniffs the WHATWG "unknown" types (`unknown/unknown`,
 * `application/unknown`, `*\/*`) as HTML, so the script ran on the bucket's origin. These types
 * (and Firefox's `application/x-unknown-content-type`) count as script-capable: a wildcard never
 * admits them, and when the options admit every type they are downloaded as attachments.
 */

const SECRET = 'sniffing-secret-0123456789abcdef'
/** What the uploaded page's script writes into the title: seeing it means the script ran. */
const MARKER = 'sniffed-and-ran'
const PAGE = `<!doctype html><html><head><title>harmless</title></head><body><p>hello</p>
<script>document.title = '${MARKER}'</script></body></html>`

const UNKNOWN_TYPES = ['application/unknown', 'Application/Unknown', 'unknown/unknown', 'application/x-unknown-content-type']

type AuthedRequest = Request & { user?: string }

/** What `openDownload` gives for a file served as an attachment: signed so, served so, nothing ran. */
const asAttachment = () => ({
  status: 302,
  disposition: 'attachment',
  served: { status: 200, contentDisposition: expect.stringMatching(/^attachment/i) },
  scriptRan: false,
})

/** The test app's login: whoever the `x-user` header names. */
function fakeAuth(req: AuthedRequest, _res: Response, next: NextFunction): void {
  req.user = req.get('x-user') || undefined
  next()
}

describeRgw('MIME sniffing: unknown types against Ceph RGW', () => {
  describeBrowser('in Chromium', () => {
    let browser: Browser
    let context: BrowserContext
    let t: Awaited<ReturnType<typeof createTestBucket>>
    let server: Awaited<ReturnType<typeof listen>>

    beforeAll(async () => {
      t = await createTestBucket('sniffing')
      const base: PresignOptions<AuthedRequest, any, any> = {
        bucket: t.bucket,
        s3: rgwClientConfig(),
        secret: SECRET,
        authorize: ({ request }) => (request.user ? { id: request.user } : false),
      }
      const app = express()
      app.use(fakeAuth)
      app.use('/uploads', presignMiddleware(base))
      app.use('/families', presignMiddleware({ ...base, allowedContentTypes: ['image/*', 'application/*'] }))
      app.use('/any', presignMiddleware({ ...base, allowedContentTypes: ['*/*'] }))
      server = await listen(app as unknown as RequestListener)
      browser = await launchBrowser()
      context = await browser.newContext({ acceptDownloads: true })
    })
    afterAll(async () => {
      await context?.close()
      await browser?.close()
      await server?.close()
      await t?.cleanup()
    })

    const at = (path: string) => `${server.url}${path}`

    /** Create, PUT the page to RGW, complete: each step as the attack did it. Returns the key. */
    async function uploadPage(contentType: string): Promise<string> {
      const created = await callApp(at('/uploads/create'), {
        user: 'mallory',
        body: { filename: 'page', contentType, size: Buffer.byteLength(PAGE) },
      })
      expect(created.status, JSON.stringify(created.body)).toBe(200)
      expect(created.body.strategy).toBe('single')
      const put = await putRaw(created.body.url, { headers: created.body.headers, body: PAGE })
      expect(put.status, put.text).toBe(200)
      const done = await callApp(at('/uploads/complete'), { user: 'mallory', body: { token: created.body.token } })
      expect(done.status, JSON.stringify(done.body)).toBe(200)
      return created.body.key as string
    }

    /**
     * What a victim gets from `GET /download?key=`: the redirect, the disposition it signs, what RGW
     * answers to that URL, and whether Chromium, navigated there, ran the page's script. A
     * download aborts the navigation, which is fine: nothing is rendered.
     */
    async function openDownload(key: string) {
      const redirected = await callApp(at(`/uploads/download?key=${encodeURIComponent(key)}`), { user: 'victim' })
      const location = redirected.headers.get('location') ?? ''
      const served = await fetch(location)
      await served.arrayBuffer()
      const page = await context.newPage()
      try {
        await page.goto(location, { waitUntil: 'load', timeout: 10_000 }).catch(() => undefined)
        const title = await page.title().catch(() => '')
        return {
          status: redirected.status,
          disposition: location ? new URL(location).searchParams.get('response-content-disposition') : null,
          served: { status: served.status, contentDisposition: served.headers.get('content-disposition') },
          scriptRan: title === MARKER,
        }
      } finally {
        await page.close()
      }
    }

    describe('with the default options (every type admitted)', () => {
      it.each(UNKNOWN_TYPES)(
        'stores a page uploaded as %s, and /download signs it as an attachment that runs no script in Chromium',
        async (contentType) => {
          const key = await uploadPage(contentType)
          expect(await openDownload(key)).toEqual(asAttachment())
        },
      )

      it.each(['text/plain', 'image/png'])(
        'keeps a page uploaded as %s inline (no response-content-disposition), and Chromium runs no script in it (control)',
        async (contentType) => {
          const key = await uploadPage(contentType)
          expect(await openDownload(key)).toEqual({
            status: 302,
            disposition: null,
            served: { status: 200, contentDisposition: null },
            scriptRan: false,
          })
        },
      )

      it('signs a page uploaded as text/html as an attachment that runs no script in Chromium (control)', async () => {
        const key = await uploadPage('text/html')
        expect(await openDownload(key)).toEqual(asAttachment())
      })
    })

    // The second outside attack: `/download` serves any key `authorize` allows, also objects another
    // tool wrote, with a stored type we cannot read as one media type. Chromium reads `*/*` as
    // unknown (and sniffs), takes the last of comma-separated types, and cuts at a space or `(`.
    describe('objects written by another tool, of a type that is not one media type', () => {
      it.each(['*/*', 'text/plain, text/html', 'text/html (x)', 'application/unknown,', 'text/plain; charset=utf-8; a="x", text/html'])(
        'downloads an HTML page stored as %j as an attachment that runs no script in Chromium',
        async (contentType) => {
          const key = `elsewhere/${Buffer.from(contentType).toString('hex')}`
          await t.client.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: PAGE, ContentType: contentType }))
          expect(await openDownload(key)).toEqual(asAttachment())
        },
      )
    })

    describe('under a wildcard', () => {
      const create = (mount: string, contentType: string) =>
        callApp(at(`${mount}/create`), { user: 'mallory', body: { filename: 'page', contentType, size: Buffer.byteLength(PAGE) } })

      it.each(['application/unknown', 'Application/Unknown', 'application/x-unknown-content-type'])(
        'refuses %s under allowedContentTypes image/*, application/* with 415 content_type_not_allowed',
        async (contentType) => {
          const res = await create('/families', contentType)
          expect({ status: res.status, code: res.body.code }).toEqual({ status: 415, code: 'content_type_not_allowed' })
        },
      )

      it.each(UNKNOWN_TYPES)('refuses %s under allowedContentTypes */* with 415 content_type_not_allowed', async (contentType) => {
        const res = await create('/any', contentType)
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 415, code: 'content_type_not_allowed' })
      })

      it.each([
        ['/families', 'image/png'],
        ['/families', 'application/pdf'],
        ['/any', 'text/plain'],
      ])('still admits, under %s, %s (control)', async (mount, contentType) => {
        const res = await create(mount, contentType)
        expect(res.status, JSON.stringify(res.body)).toBe(200)
      })
    })
  })
})
