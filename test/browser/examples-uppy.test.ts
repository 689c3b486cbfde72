import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { describeBrowser, launchBrowser } from '../helpers/browser'

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
