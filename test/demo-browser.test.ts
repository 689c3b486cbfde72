import { mkdirSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeBrowser, launchBrowser } from './helpers/browser'

/**
 * The demo page as a person uses it, in headless Chromium: pick a file, press Upload, watch the
 * progress bar reach 100%, see the file listed, download it back. The page uploads with the
 * package's client. Saves test-artifacts/demo.png.
 */
describeBrowser('the demo page in Chromium', () => {
  let browser: Browser
  let demo: { url: string; close: () => Promise<void> }

  beforeAll(async () => {
    delete process.env.S3_ENDPOINT
    // @ts-expect-error: a plain JavaScript example, imported as a user would run it
    const { start } = await import('../examples/express/server.mjs')
    demo = await start({ port: 0 })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  it('uploads a picked file with progress to 100%, lists it, and its link downloads the same bytes', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(demo.url)
    const bytes = randomBytes(3 * 1024 * 1024)
    await page.setInputFiles('#file', { name: 'holiday photo.jpg', mimeType: 'image/jpeg', buffer: bytes })
    await page.click('#upload')
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'done', undefined, { timeout: 20_000 })
    expect(await page.$eval('#progress', (p) => (p as HTMLProgressElement).value)).toBe(100)
    await page.waitForSelector('#files a')
    const link = page.locator('#files a', { hasText: 'holiday photo.jpg' }).first()
    const href = await link.getAttribute('href')
    const downloaded = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url!)).arrayBuffer())), href)
    expect(Buffer.from(downloaded).equals(bytes)).toBe(true)
    mkdirSync('test-artifacts', { recursive: true })
    writeFileSync('test-artifacts/demo.png', await page.screenshot({ fullPage: true }))
    expect(errors).toEqual([])
  })
})
