import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { describeBrowser, launchBrowser } from '../helpers/browser'
import { RGW_ENDPOINT, createTestBucket, describeRgw, rgwClientConfig } from '../helpers/rgw'

/** Boots examples/uppy (Uppy Dashboard on the middleware, embedded s3rver) and uploads through it. */

let app: { url: string; close(): Promise<void> }

beforeAll(async () => {
  vi.stubEnv('S3_ENDPOINT', undefined)
  vi.stubEnv('DEMO_S3_PORT', '0')
  // @ts-expect-error: a plain JavaScript example, imported as users would run it
  const example = await import('../../examples/uppy/server.mjs')
  app = await example.start({ port: 0 })
}, 60_000)
afterAll(async () => {
  await app?.close()
  vi.unstubAllEnvs()
})

describe('the Uppy example', () => {
  it('serves the page, the Uppy bundle and its styles', async () => {
    expect(await (await fetch(`${app.url}/`)).text()).toContain('id="uppy"')
    expect((await (await fetch(`${app.url}/uppy.js`)).text()).length).toBeGreaterThan(50_000)
    expect(await (await fetch(`${app.url}/uppy.css`)).text()).toContain('.uppy-')
  })
})

describeBrowser('the Uppy example in Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(() => browser?.close())

  it('uploads a file through the Dashboard and reports it uploaded', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(app.url)
    await page.waitForFunction(() => (window as any).uppy !== undefined)
    await page.evaluate(() => {
      const uppy = (window as any).uppy
      uppy.addFile({ name: 'note.txt', type: 'text/plain', data: new Blob(['hello from uppy'], { type: 'text/plain' }) })
      return uppy.upload()
    })
    await page.waitForFunction(() => document.querySelector('#result')?.textContent?.includes('note.txt uploaded'), undefined, {
      timeout: 20_000,
    })
    expect(errors).toEqual([])
    await page.close()
  })
})

/**
 * The README's Uppy snippet (`shouldUseMultipart: () => true`, as in the example) on Ceph RGW: a
 * small file goes multipart too, so it reaches `onComplete`, and Uppy finishes (on RGW the POST
 * path would wait forever at 100%: RGW answers POST Object without the ETag header Uppy v5 reads).
 */
describeRgw('the Uppy example on RGW', () =>
  describeBrowser('in Chromium', () => {
    let browser: Browser
    let onRgw: { url: string; close(): Promise<void> }
    let bucket: Awaited<ReturnType<typeof createTestBucket>>
    const logged: string[] = []

    beforeAll(async () => {
      bucket = await createTestBucket('uppy-example')
      const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
      vi.stubEnv('S3_ENDPOINT', RGW_ENDPOINT)
      vi.stubEnv('S3_BUCKET', bucket.bucket)
      vi.stubEnv('S3_REGION', 'us-east-1')
      vi.stubEnv('S3_ACCESS_KEY_ID', credentials.accessKeyId)
      vi.stubEnv('S3_SECRET_ACCESS_KEY', credentials.secretAccessKey)
      vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args.join(' ')))
      // @ts-expect-error: a plain JavaScript example, imported as users would run it
      const example = await import('../../examples/uppy/server.mjs')
      onRgw = await example.start({ port: 0 })
      browser = await launchBrowser()
    }, 60_000)
    afterAll(async () => {
      await browser?.close()
      await onRgw?.close()
      await bucket?.cleanup()
      vi.restoreAllMocks()
      vi.unstubAllEnvs()
    })

    it('uploads a small file through the Dashboard to RGW, and onComplete runs for it', async () => {
      const page = await browser.newPage()
      await page.goto(onRgw.url)
      await page.waitForFunction(() => (window as any).uppy !== undefined)
      await page.evaluate(() => {
        const uppy = (window as any).uppy
        uppy.addFile({ name: 'small.txt', type: 'text/plain', data: new Blob(['a small file'], { type: 'text/plain' }) })
        return uppy.upload()
      })
      await page.waitForFunction(() => document.querySelector('#result')?.textContent?.includes('small.txt uploaded'), undefined, {
        timeout: 20_000,
      })
      expect(logged.some((line) => /\[uppy example\] stored .*small\.txt \(12 bytes\)/.test(line))).toBe(true)
      await page.close()
    })
  }),
)
