import { AbortMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import express5 from 'express'
import express4 from 'express-4'
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import { describeBrowser, launchBrowser } from '../helpers/browser'
import { createTestBucket, describeRgw, rgwClientConfig } from '../helpers/rgw'
import { listen } from '../helpers/targets'

/**
 * Issue 9 item 2 (SPEC §5.10) in a real browser: a page on another origin (another loopback
 * port) auto-submits an HTML form to the upload routes of an app that mounts
 * `express.urlencoded()` and `express.text()` before the middleware. The victim is logged in
 * (a SameSite=Lax session cookie, which a same-site cross-origin form navigation carries).
 * Nothing may start: the answer is 415 JSON and RGW holds no multipart upload.
 */

const MiB = 1024 * 1024
type AnyExpress = typeof express5

interface Arrival {
  path: string
  contentType: string
  cookie: string
  origin: string
}

/** An auto-submitting form; `fields` are [name, value] pairs as the browser will encode them. */
function formPage(action: string, enctype: string, fields: Array<[string, string]>): string {
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/'/g, '&#39;')
  const inputs = fields.map(([name, value]) => `<input type="hidden" name='${attr(name)}' value='${attr(value)}'>`).join('')
  return `<!doctype html><meta charset="utf-8"><title>cute cats</title>
<form id="f" method="POST" action="${action}" enctype="${enctype}">${inputs}</form>
<script>document.getElementById('f').submit()</script>`
}

/**
 * A text/plain form sends `name=value\r\n`: with the name `{"a":"b","x":"` and the value `"}` the
 * body is the JSON `{"a":"b","x":"="}`, which `express.text()` hands on as a string.
 */
function jsonAsTextPlain(body: Record<string, unknown>): Array<[string, string]> {
  const json = JSON.stringify({ ...body, x: '' })
  return [[json.slice(0, -2), '"}']]
}

const attacks = [
  {
    name: 'an application/x-www-form-urlencoded form to /uploads/s3/multipart',
    route: '/uploads/s3/multipart',
    enctype: 'application/x-www-form-urlencoded',
    fields: (): Array<[string, string]> => [
      ['filename', 'evil.html'],
      ['type', 'text/html'],
    ],
  },
  {
    name: 'a text/plain form to /uploads/s3/multipart',
    route: '/uploads/s3/multipart',
    enctype: 'text/plain',
    fields: () => jsonAsTextPlain({ filename: 'evil.html', type: 'text/html', metadata: {} }),
  },
  {
    name: 'an application/x-www-form-urlencoded form to /uploads/create',
    route: '/uploads/create',
    enctype: 'application/x-www-form-urlencoded',
    fields: (): Array<[string, string]> => [
      ['filename', 'evil.html'],
      ['contentType', 'text/html'],
      ['size', String(6 * MiB)],
    ],
  },
  {
    name: 'a text/plain form to /uploads/create',
    route: '/uploads/create',
    enctype: 'text/plain',
    fields: () => jsonAsTextPlain({ filename: 'evil.html', contentType: 'text/html', size: 6 * MiB }),
  },
]

describeRgw('issue 9 item 2: cross-origin HTML forms against Ceph RGW', () => {
  describeBrowser('in Chromium', () => {
    let browser: Browser

    beforeAll(async () => {
      browser = await launchBrowser()
    })
    afterAll(async () => {
      await browser?.close()
    })

    describe.each([
      ['Express 5', express5],
      ['Express 4', express4 as unknown as AnyExpress],
    ] as const)('%s with express.urlencoded() and express.text() before the middleware', (_name, express) => {
      let t: Awaited<ReturnType<typeof createTestBucket>>
      let app: Awaited<ReturnType<typeof listen>>
      let attacker: Awaited<ReturnType<typeof listen>>
      let context: BrowserContext
      const arrivals: Arrival[] = []
      const pages = new Map<string, string>()

      beforeAll(async () => {
        t = await createTestBucket('csrf-form')
        const host = express()
        host.use((req, _res, next) => {
          if (req.path.startsWith('/uploads/')) {
            arrivals.push({
              path: req.path,
              contentType: req.get('content-type') ?? '',
              cookie: req.get('cookie') ?? '',
              origin: req.get('origin') ?? '',
            })
          }
          next()
        })
        host.use(express.urlencoded({ extended: false }))
        host.use(express.text())
        host.use(
          '/uploads',
          presignMiddleware({
            bucket: t.bucket,
            s3: rgwClientConfig(),
            secret: 'csrf-form-secret-0123456789',
            // The victim's session: a cookie the browser attaches by itself.
            authorize: ({ request }) => (/(^|;\s*)session=victim(;|$)/.test(request.get('cookie') ?? '') ? { id: 'victim' } : false),
            multipart: { threshold: 5 * MiB },
          }),
        )
        host.get('/', (_req, res) => {
          res.type('html').send('<!doctype html><title>app</title>')
        })
        app = await listen(host as unknown as Parameters<typeof listen>[0])

        const evil = express5()
        evil.get('/:page', (req, res) => {
          const html = pages.get(req.params.page)
          if (!html) res.status(404).end()
          else res.type('html').send(html)
        })
        attacker = await listen(evil as unknown as Parameters<typeof listen>[0])
        // Same site (127.0.0.1), another origin (port): Lax cookies go along with a top-level form POST.
        expect(new URL(attacker.url).origin).not.toBe(new URL(app.url).origin)

        context = await browser.newContext()
        await context.addCookies([{ name: 'session', value: 'victim', url: app.url, sameSite: 'Lax', httpOnly: true }])
      })
      afterAll(async () => {
        await context?.close()
        await attacker?.close()
        await app?.close()
        await t?.cleanup()
      })
      beforeEach(() => {
        arrivals.length = 0
      })
      // Whatever a forged request started (today's code does) must not blur the next test.
      afterEach(async () => {
        const page = await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket }))
        for (const u of page.Uploads ?? []) {
          await t.client.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: u.Key, UploadId: u.UploadId }))
        }
      })

      async function openUploads(): Promise<string[]> {
        const page = await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket }))
        return (page.Uploads ?? []).map((u) => u.Key!)
      }

      it("lets the victim's own JSON request from the app's page start an upload (control)", async () => {
        const page = await context.newPage()
        await page.goto(app.url)
        const answer = await page.evaluate(async () => {
          const res = await fetch('/uploads/s3/multipart', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ filename: 'mine.bin', type: 'application/octet-stream', metadata: {} }),
          })
          return { status: res.status, body: await res.json() }
        })
        await page.close()
        expect(answer.status).toBe(200)
        expect(await openUploads()).toContain(answer.body.key)
        const page2 = await context.newPage()
        await page2.goto(app.url)
        const aborted = await page2.evaluate(async ({ uploadId, key }) => {
          const res = await fetch(`/uploads/s3/multipart/${encodeURIComponent(uploadId)}?key=${encodeURIComponent(key)}`, {
            method: 'DELETE',
          })
          return res.status
        }, answer.body)
        await page2.close()
        expect(aborted).toBe(200)
        expect(await openUploads()).toEqual([])
      })

      it.each(attacks)(
        'refuses $name from another origin with 415 JSON, and starts no multipart upload',
        async ({ route, enctype, fields }) => {
          const name = `attack-${Math.random().toString(36).slice(2)}`
          pages.set(name, formPage(`${app.url}${route}`, enctype, fields()))
          const page = await context.newPage()
          const answered = page.waitForResponse((res) => res.url() === `${app.url}${route}` && res.request().method() === 'POST', {
            timeout: 15_000,
          })
          await page.goto(`${attacker.url}/${name}`)
          const res = await answered
          const text = await res.text()
          await page.close()

          // The forged request really arrived, as the browser sends it: from the other origin, with
          // the form's content type and the victim's cookie.
          expect(arrivals).toEqual([
            { path: route, contentType: expect.stringMatching(new RegExp(`^${enctype}`)), cookie: 'session=victim', origin: attacker.url },
          ])
          const observed = { status: res.status(), contentType: res.headers()['content-type'] ?? '', body: safeJson(text) ?? text }
          expect(observed).toEqual({
            status: 415,
            contentType: expect.stringMatching(/^application\/json/),
            body: { code: 'unsupported_media_type', message: expect.any(String) },
          })
          expect(await openUploads()).toEqual([])
        },
      )
    })
  })
})

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
