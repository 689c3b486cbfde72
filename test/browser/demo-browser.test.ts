import { mkdirSync, writeFileSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { describeBrowser, launchBrowser } from '../helpers/browser'
import { RGW_ENDPOINT, createTestBucket, describeRgw, rgwClientConfig } from '../helpers/rgw'

/**
 * The demo page as a person uses it, in headless Chromium, with the Express example on Ceph RGW
 * (through its S3_ENDPOINT settings): pick a file, press Upload, watch the progress bar reach
 * 100%, see the file listed, download it back. The page uploads with the package's client.
 * Saves test-artifacts/demo.png.
 */
describeRgw('the demo page on RGW', () =>
  describeBrowser('in Chromium', () => {
    let browser: Browser
    let demo: { url: string; close: () => Promise<void> }
    let bucket: Awaited<ReturnType<typeof createTestBucket>>

    beforeAll(async () => {
      bucket = await createTestBucket('demo-page')
      const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
      vi.stubEnv('S3_ENDPOINT', RGW_ENDPOINT)
      vi.stubEnv('S3_BUCKET', bucket.bucket)
      vi.stubEnv('S3_REGION', 'us-east-1')
      vi.stubEnv('S3_ACCESS_KEY_ID', credentials.accessKeyId)
      vi.stubEnv('S3_SECRET_ACCESS_KEY', credentials.secretAccessKey)
      // @ts-expect-error: a plain JavaScript example, imported as a user would run it
      const { start } = await import('../../examples/express/server.mjs')
      demo = await start({ port: 0 })
      browser = await launchBrowser()
    })
    afterAll(async () => {
      await browser?.close()
      await demo?.close()
      await bucket?.cleanup()
      vi.unstubAllEnvs()
    })

    it('uploads a picked file (multipart: 12 MiB) with progress to 100%, lists it, and its link downloads the same bytes', async () => {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(demo.url)
      const bytes = randomBytes(12 * 1024 * 1024)
      await page.setInputFiles('#file', { name: 'holiday photo.jpg', mimeType: 'image/jpeg', buffer: bytes })
      await page.click('#upload')
      await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'done', undefined, {
        timeout: 20_000,
      })
      expect(await page.$eval('#progress', (p) => (p as HTMLProgressElement).value)).toBe(100)
      await page.waitForSelector('#files a')
      const link = page.locator('#files a', { hasText: 'holiday photo.jpg' }).first()
      const href = await link.getAttribute('href')
      // Hash in the page: shipping 12 MiB of numbers back as JSON would take longer than the upload.
      const downloaded = await page.evaluate(async (url) => {
        const digest = await crypto.subtle.digest('SHA-256', await (await fetch(url!)).arrayBuffer())
        return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
      }, href)
      expect(downloaded).toBe(createHash('sha256').update(bytes).digest('hex'))
      mkdirSync('test-artifacts', { recursive: true })
      writeFileSync('test-artifacts/demo.png', await page.screenshot({ fullPage: true }))
      expect(errors).toEqual([])
    })
  }),
)
