import { createHash } from 'node:crypto'
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import express from 'express'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import { describeBrowser, launchBrowser } from '../helpers/browser'
import { createTestBucket, describeRgw, rgwClientConfig } from '../helpers/rgw'
import { listen } from '../helpers/targets'

/**
 * The built client (`dist/client.js`, as browsers get it) in headless Chromium, through the
 * middleware, to Ceph RGW: multipart with progress, abort, and resume after a real page reload.
 */

const MiB = 1024 * 1024

/** The same bytes in the page and here: byte i of a file is (i * 31 + seed) & 255. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>client</title>
<script type="module">
  import { uploadFile } from '/client.js'
  window.makeFile = (size, seed, name) => {
    const b = new Uint8Array(size)
    for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 255
    return new File([b], name, { type: 'application/octet-stream', lastModified: 1700000000000 })
  }
  window.uploadFile = uploadFile
  window.ready = true
</script>`

function expectedSha(size: number, seed: number): string {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 255
  return createHash('sha256').update(b).digest('hex')
}

describeRgw('the client in Chromium against RGW', () => {
  describeBrowser('uploadFile in a real browser', () => {
    let t: Awaited<ReturnType<typeof createTestBucket>>
    let server: Awaited<ReturnType<typeof listen>>
    let browser: Browser

    beforeAll(async () => {
      t = await createTestBucket('client-browser')
      const app = express()
      app.use(
        '/uploads',
        presignMiddleware({
          bucket: t.bucket,
          s3: rgwClientConfig(),
          secret: 'client-browser-secret-0123',
          authorize: () => ({ id: 'b' }),
          multipart: { threshold: 5 * MiB },
        }),
      )
      app.get('/client.js', (_req, res) => res.type('text/javascript').sendFile(new URL('../../dist/client.js', import.meta.url).pathname))
      app.get('/', (_req, res) => res.type('html').send(PAGE))
      server = await listen(app)
      browser = await launchBrowser()
    })
    afterAll(async () => {
      await browser?.close()
      await server?.close()
      await t?.cleanup()
    })

    async function open(): Promise<Page> {
      const page = await browser.newPage()
      await page.goto(server.url)
      await page.waitForFunction(() => (window as any).ready === true)
      return page
    }

    const sha = async (key: string) =>
      createHash('sha256')
        .update(await (await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))).Body!.transformToByteArray())
        .digest('hex')
    const openUploads = async () => (await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket }))).Uploads ?? []

    it('uploads 12 MiB in parallel parts with XHR progress rising to 100%', async () => {
      const page = await open()
      const size = 12 * MiB + 5
      const { done, progress } = await page.evaluate(async (size) => {
        const progress: number[] = []
        const done = await (window as any).uploadFile((window as any).makeFile(size, 1, 'big.bin'), {
          endpoint: '/uploads',
          onProgress: ({ loaded, total }: { loaded: number; total: number }) => progress.push(loaded / total),
        })
        return { done, progress }
      }, size)
      expect(done.size).toBe(size)
      expect(await sha(done.key)).toBe(expectedSha(size, 1))
      expect(progress.length).toBeGreaterThanOrEqual(3) // loopback is fast: XHR reports in few, large steps
      expect(progress.at(-1)).toBe(1)
      expect(progress).toEqual([...progress].sort((a, b) => a - b))
      await page.close()
    })

    it('aborts: rejects with AbortError and leaves no multipart upload on S3', async () => {
      const page = await open()
      const name = await page.evaluate(async () => {
        const controller = new AbortController()
        try {
          await (window as any).uploadFile((window as any).makeFile(16 * 1024 * 1024, 2, 'abort.bin'), {
            endpoint: '/uploads',
            concurrency: 1,
            signal: controller.signal,
            onProgress: ({ loaded }: { loaded: number }) => loaded > 0 && controller.abort(),
          })
          return 'resolved'
        } catch (error) {
          return (error as Error).name
        }
      })
      expect(name).toBe('AbortError')
      expect(await openUploads()).toHaveLength(0)
      await page.close()
    })

    it('resumes after a page reload, uploading only the parts S3 lacks', async () => {
      const page = await open()
      const size = 16 * MiB + 9 // 4 parts
      // The network goes away after two part PUTs: the page then "reloads".
      let puts = 0
      await page.route('**/*', (route) => {
        if (route.request().method() === 'PUT' && ++puts > 2) return route.abort('connectionreset')
        return route.continue()
      })
      const first = await page.evaluate(async (size) => {
        try {
          await (window as any).uploadFile((window as any).makeFile(size, 3, 'resume.bin'), {
            endpoint: '/uploads',
            concurrency: 1,
            retries: 0,
            resume: localStorage,
          })
          return 'resolved'
        } catch (error) {
          return `${(error as Error).name}: ${localStorage.length} saved`
        }
      }, size)
      expect(first).toBe('UploadError: 1 saved')
      await page.unroute('**/*')

      await page.reload()
      await page.waitForFunction(() => (window as any).ready === true)
      const partPuts: string[] = []
      page.on('request', (r) => r.method() === 'PUT' && partPuts.push(new URL(r.url()).searchParams.get('partNumber')!))
      const done = await page.evaluate(async (size) => {
        const result = await (window as any).uploadFile((window as any).makeFile(size, 3, 'resume.bin'), {
          endpoint: '/uploads',
          concurrency: 1,
          resume: localStorage,
        })
        return { ...result, saved: localStorage.length }
      }, size)
      expect(partPuts.sort()).toEqual(['3', '4'])
      expect(done.saved).toBe(0)
      expect(await sha(done.key)).toBe(expectedSha(size, 3))
      await page.close()
    })
  })
})
