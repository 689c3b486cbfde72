import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForBrowser, describeBrowser, launchBrowser } from '../helpers/browser'
import {
  type BootedApp,
  CLIENT_SCRIPT,
  type NextProcess,
  REPORT_PREFIX,
  type ReadmeBlock,
  appEnv,
  bootApp,
  clientPage,
  createAppDir,
  fillIn,
  insertAfterLine,
  nextBuild,
  nextStart,
  readmeBlock,
  toJavaScript,
  walkThroughInChromium,
  writeNextApp,
} from '../helpers/readme-walkthrough'
import { RGW_ENDPOINT, type TestBucket, createTestBucket, describeRgw } from '../helpers/rgw'
import { assertFreshBuild } from '../types/_fixture'

/**
 * Issue 11, "Done when": a fresh-clone walkthrough of the README, followed literally, uploads and
 * downloads a file in Chromium. The README's own blocks run here, extracted from README.md by
 * section: the Quick start's Express and Koa blocks as Node apps (TypeScript stripped by esbuild,
 * the package imported by name from `dist/` through its `exports`), "In the browser: the client"
 * as the page's module script, and the Uppy section's snippet bundled for the page; and the
 * Next.js section's route file with the React block as a Next.js App Router app, type-checked and
 * built by `next build`, served by `next start`. Each case picks a file in Chromium, waits for the
 * upload to complete as the logged-in user, and downloads it back through the middleware's
 * `GET <mount>/download?key=` (302 to S3), byte for byte.
 *
 * The glue, all of it below and nothing else, is what a reader adds around the blocks:
 * - the values they fill in: the bucket (`'my-uploads'`, or `S3_BUCKET` for Next.js → a test
 *   bucket on RGW with CORS), the browser's `endpoint` on Next.js (`'/api/uploads'`, as its section
 *   says), and the SDK's own environment variables for credentials, region and endpoint
 *   (`AWS_ENDPOINT_URL_S3`, which the SDK reads, so no block changes for RGW), `PRESIGN_SECRET`;
 * - their login (a `user` cookie → `req.user` / `ctx.state.user`), inserted right after
 *   `const app = ...` so it runs before the upload mount, as Passport or a session would; on
 *   Next.js the route block reads the `session` cookie itself, through the reader's `db`;
 * - their database (`db.files.insert` → `{ id }`, reported to the test; on Next.js
 *   `db.users.bySession`, imported by one line above the route block), `app.listen`, and the
 *   page and scripts they serve (the built `dist/client.js`, an Uppy bundle; on Next.js the root
 *   layout and a `'use client'` page rendering the React block's `Uploader`);
 * - a README gap is never patched: a block that cannot run as written fails the test, naming the fix.
 */

/** Per case: 20 s (the Express, Koa and Uppy apps take 30 s at most to set up; the Next.js app, see NEXT_BUILD_TIMEOUT). */
const CASE_TIMEOUT = 20_000

const BUCKET_PLACEHOLDER = "'my-uploads'"
const SECRET = randomBytes(32).toString('base64') // `openssl rand -base64 32`, as the Express block says

// ---- the glue, as source text around the README's blocks ----

/** Before the block: the reader's database (`db.files.insert(row)` → `{ id }`) and the report line to the test. */
const DATABASE = `// ---- walkthrough glue: the reader's database, reporting each insert to the test ----
const walkthroughReport = (event) => process.stdout.write(${JSON.stringify(REPORT_PREFIX)} + JSON.stringify(event) + '\\n')
let walkthroughRows = 0
const db = {
  files: {
    async insert(row) {
      const id = 'file-' + ++walkthroughRows
      walkthroughReport({ event: 'insert', row, id })
      return { id }
    },
  },
}
`

/** Right after `const app = ...`: the reader's login, before the upload mount (a `user` cookie names the user). */
const LOGIN = {
  express: `// ---- walkthrough glue: the reader's login (Passport would set req.user) ----
app.use((req, _res, next) => {
  const id = /(?:^|;\\s*)user=([\\w-]+)/.exec(req.headers.cookie ?? '')?.[1]
  if (id) req.user = { id, plan: 'pro' }
  next()
})`,
  koa: `// ---- walkthrough glue: the reader's login (their auth middleware sets ctx.state.user) ----
app.use(async (ctx, next) => {
  const id = ctx.cookies.get('user')
  if (id) ctx.state.user = { id, plan: 'pro' }
  await next()
})`,
}

/** After the block: the static files the reader serves (`path` → [content type, file]) and `app.listen`. */
function serveAndListen(framework: 'express' | 'koa', assets: Record<string, [string, string]>): string {
  const serve =
    framework === 'express'
      ? `app.use((req, res, next) => {
  const asset = walkthroughAssets[req.path]
  if (req.method !== 'GET' || !asset) return next()
  res.type(asset[0]).send(walkthroughRead(asset[1]))
})`
      : `app.use(async (ctx, next) => {
  const asset = walkthroughAssets[ctx.path]
  if (ctx.method !== 'GET' || !asset) return next()
  ctx.type = asset[0]
  ctx.body = walkthroughRead(asset[1])
})`
  return `// ---- walkthrough glue: the reader's pages and scripts, and app.listen ----
import { readFileSync as walkthroughRead } from 'node:fs'
const walkthroughAssets = ${JSON.stringify(assets)}
${serve}
const walkthroughServer = app.listen(0, '127.0.0.1', () => walkthroughReport({ event: 'listening', port: walkthroughServer.address().port }))
`
}

/** A README server block as the reader's app: glue before, login after `const app = ...`, the block, glue after. */
async function readerApp(block: ReadmeBlock, framework: 'express' | 'koa', bucket: string, assets: Record<string, [string, string]>) {
  const filled = fillIn(block.code, BUCKET_PLACEHOLDER, `'${bucket}'`)
  const withLogin = insertAfterLine(filled, /^const app = /, LOGIN[framework])
  const source = `${DATABASE}// ---- README.md line ${block.line} ("${block.section}"), with its bucket filled in ----\n${withLogin}\n${serveAndListen(framework, assets)}`
  return toJavaScript(source)
}

/**
 * The Uppy section's snippet as the page's script (bundled by esbuild, as an app's bundler
 * would), then glue: the picked file goes to the snippet's Uppy, the outcome to the test.
 */
function uppyEntry(block: ReadmeBlock): string {
  const code = block.code
  // The snippet must keep its Uppy instance: nothing could add files to one it drops.
  if (!/\b(?:const|let|var)\s+uppy\s*=/.test(code)) {
    throw new Error(`README.md line ${block.line} (Uppy): the snippet must keep its instance (\`const uppy = new Uppy()...\`).`)
  }
  return `// README.md line ${block.line} ("${block.section}"):
${code}
// ---- walkthrough glue: the picked file goes to Uppy (an app would use Dashboard or FileInput); the outcome to the test ----
const walkthroughInput = document.querySelector('#file')
walkthroughInput.addEventListener('change', () => {
  for (const file of walkthroughInput.files) uppy.addFile({ name: file.name, type: file.type, data: file })
  uppy.upload().catch(() => {})
})
uppy.on('complete', ({ successful = [], failed = [] }) => {
  window.walkthrough = {
    successful: successful.map((f) => ({ name: f.name, body: f.response && f.response.body })),
    failed: failed.map((f) => ({ name: f.name, error: String(f.error) })),
  }
})
`
}

const UPPY_PAGE = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>README walkthrough: Uppy</title>
<input type="file" id="file">
<script src="/uppy.js"></script>
</html>
`

// ---- the Next.js app's glue: what a reader adds around the route file and the React block ----

// `next build` compiles with Turbopack and type-checks: about 30 s on 2 idle cores, 60 to 90 s and
// more when other suites share them. The bounds are generous so that a slow machine is not a
// failure; a build that hangs is killed at the bound and fails with its output.
const NEXT_BUILD_TIMEOUT = 240_000
const NEXT_START_TIMEOUT = 60_000

/** The browser's endpoint, as the client and React blocks write it, and as the Next.js section says to fill it in. */
const ENDPOINT = "endpoint: '/uploads'"
const NEXT_ENDPOINT = "endpoint: '/api/uploads'"

/**
 * The route block at the path its first line names (`// app/api/uploads/[...path]/route.ts`),
 * verbatim after one line of glue: the import of the reader's `db`, which the block uses.
 */
function nextRoute(block: ReadmeBlock): Record<string, string> {
  const path = /^\/\/ (app\/\S+\/route\.ts)$/.exec(block.code.split('\n')[0] ?? '')?.[1]
  if (!path)
    throw new Error(`README.md line ${block.line} (${block.section}): the block should start with its path, \`// app/.../route.ts\``)
  return { [path]: `import { db } from '@/lib/db' // walkthrough glue: the reader's data layer\n${block.code}\n` }
}

/** The reader's data layer: `db.users.bySession(cookie)` knows one signed-in session. */
function nextDatabase(session: string): string {
  return `// walkthrough glue: the reader's data layer, with one signed-in session
export const db = {
  users: {
    async bySession(session: string | undefined) {
      return session === ${JSON.stringify(session)} ? { id: 'dave', plan: 'pro' as const } : undefined
    },
  },
}
`
}

const NEXT_LAYOUT = `// walkthrough glue: the root layout every App Router app has
import type { ReactNode } from 'react'

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  )
}
`

/** The React block as the app's component module, its endpoint filled in; the page imports it. */
function nextUploader(block: ReadmeBlock): string {
  const code = fillIn(block.code, ENDPOINT, NEXT_ENDPOINT)
  // Next renders client components on the server too (`next build` prerenders the page): a bare
  // `localStorage` there throws, and the route block has no onComplete (`result: null`).
  if (/resume: localStorage\b/.test(code) || code.includes('result?.result.id')) {
    throw new Error(
      `README.md line ${block.line} (React): the block must run in Next.js (resume: globalThis.localStorage; no result.id without onComplete).`,
    )
  }
  return `// README.md line ${block.line} ("${block.section}"), with its endpoint filled in:\n${code}\n`
}

const NEXT_PAGE = `'use client'
// walkthrough glue: the reader's page, showing the README's Uploader
import { Uploader } from './uploader'

export default function Page() {
  return (
    <main>
      <Uploader />
    </main>
  )
}
`

/**
 * In the page: whether React has hydrated the Uploader's file input (React keeps its props on the
 * element as `__reactProps$<id>`): a file picked before hydration would meet no change handler.
 */
const reactHydrated = () => {
  const input = document.querySelector('input[type="file"]')
  return input !== null && Object.keys(input).some((name) => name.startsWith('__reactProps'))
}

/** In the page: what the Uploader shows once the upload is over (`Saved as <key>`, with ` (id <id>)` if any; or its alert). */
const uploaderOutcome = () => {
  const alert = document.querySelector('[role="alert"]')
  if (alert) return { error: alert.textContent }
  const saved = [...document.querySelectorAll('p')].map((p) => /^Saved as (\S+?)(?: \(id (.*)\))?$/.exec(p.textContent ?? '')).find(Boolean)
  return saved ? { key: saved[1], id: saved[2] ?? '' } : undefined
}

/** A small PNG-typed file of random bytes (the Express block allows `image/*` and PDF). */
function pngFile(name: string): { name: string; mimeType: string; buffer: Buffer } {
  return { name, mimeType: 'image/png', buffer: randomBytes(48 * 1024 + 13) }
}

/**
 * The README's download route (under `mount`) from outside the browser: 403 without a login (its
 * `authorize` refuses), 302 to the object on RGW with the login `cookie`.
 */
async function expectDownloadRoute(mount: string, key: string, cookie: string) {
  const route = `${mount}/download?key=${encodeURIComponent(key)}`
  const anonymous = await fetch(route, { redirect: 'manual' })
  expect(anonymous.status).toBe(403)
  const loggedIn = await fetch(route, { redirect: 'manual', headers: { cookie } })
  expect(loggedIn.status).toBe(302)
  expect(loggedIn.headers.get('location')?.startsWith(`${RGW_ENDPOINT}/`)).toBe(true)
}

function explain(app: BootedApp): string {
  return `app events: ${JSON.stringify(app.events)}\napp output:\n${app.output()}`
}

describeRgw('the README followed literally (issue 11)', () => {
  describeBrowser('its Express, Koa, Next.js, browser client, React and Uppy sections upload and download a file in Chromium', () => {
    let t: TestBucket
    let browser: Browser
    let dir: ReturnType<typeof createAppDir>
    let expressApp: BootedApp
    let koaApp: BootedApp
    const blocks = {
      express: readmeBlock('Express (4 or 5)', ['ts']),
      koa: readmeBlock('Koa (2 or 3)', ['ts']),
      client: readmeBlock('In the browser: the client', ['js']),
      uppy: readmeBlock('Uppy', ['js']),
    }

    beforeAll(async () => {
      assertFreshBuild()
      dir = createAppDir('readme')
      let uppyBundle: string
      ;[t, browser, uppyBundle] = await Promise.all([
        createTestBucket('walkthrough'),
        launchBrowser(),
        bundleForBrowser(uppyEntry(blocks.uppy)),
      ])
      const file = (name: string, text: string) => {
        writeFileSync(join(dir.app, name), text)
        return join(dir.app, name)
      }
      const client: Record<string, [string, string]> = {
        '/': ['html', file('client.html', clientPage(blocks.client))],
        '/client.js': ['text/javascript', CLIENT_SCRIPT],
      }
      const uppy: Record<string, [string, string]> = {
        '/uppy': ['html', file('uppy.html', UPPY_PAGE)],
        '/uppy.js': ['text/javascript', file('uppy.js', uppyBundle)],
      }
      const env = appEnv(SECRET)
      ;[expressApp, koaApp] = await Promise.all([
        readerApp(blocks.express, 'express', t.bucket, { ...client, ...uppy }).then((source) =>
          bootApp(dir.app, 'express-app.mjs', source, env),
        ),
        readerApp(blocks.koa, 'koa', t.bucket, client).then((source) => bootApp(dir.app, 'koa-app.mjs', source, env)),
      ])
    }, 30_000)

    afterAll(async () => {
      await Promise.all([expressApp?.stop(), koaApp?.stop(), browser?.close()])
      await t?.cleanup()
      dir?.cleanup()
    })

    it(
      'Express quick start and the browser client: the upload completes as the logged-in user, onComplete stores its row, and the download route returns its bytes',
      async () => {
        const file = pngFile('cat.png')
        const walk = await walkThroughInChromium(browser, { pageUrl: `${expressApp.url}/`, user: 'alice', file, keyOf: (o) => o.key })
        const why = explain(expressApp)

        // The Express block's keyFor and onComplete, with alice from the login.
        const key = walk.outcome.key as string
        expect(key, why).toMatch(/^users\/alice\/[0-9a-f-]{36}$/)
        const insert = expressApp.events.find((e) => e.event === 'insert')
        expect(insert, why).toEqual({
          event: 'insert',
          row: { key, size: file.buffer.length, contentType: 'image/png', owner: 'alice' },
          id: 'file-1',
        })
        expect(walk.outcome.result, why).toEqual({ id: 'file-1' }) // onComplete's return, "sent to the client as `result`"
        expect(walk.outcome.progress, why).toBe(1) // the block's onProgress drove the bar to the end

        expect(walk.download).toMatchObject({ status: 200, redirected: true })
        expect(walk.download.url.startsWith(`${RGW_ENDPOINT}/${t.bucket}/`)).toBe(true)
        expect(walk.download.bytes.equals(file.buffer)).toBe(true)
        await expectDownloadRoute(`${expressApp.url}/uploads`, key, 'user=alice')
      },
      CASE_TIMEOUT,
    )

    it(
      'Koa and the browser client: the upload completes as the logged-in user and the download route returns its bytes',
      async () => {
        const file = pngFile('koala.png')
        const walk = await walkThroughInChromium(browser, { pageUrl: `${koaApp.url}/`, user: 'carol', file, keyOf: (o) => o.key })
        const why = explain(koaApp)

        // The Koa block has no keyFor and no onComplete: the default key, and `result: null`.
        const key = walk.outcome.key as string
        expect(key, why).toMatch(/^[0-9a-f-]{36}\/koala\.png$/)
        expect(walk.outcome.result, why).toBeNull()
        expect(walk.outcome.progress, why).toBe(1)

        expect(walk.download).toMatchObject({ status: 200, redirected: true })
        expect(walk.download.bytes.equals(file.buffer)).toBe(true)
        await expectDownloadRoute(`${koaApp.url}/uploads`, key, 'user=carol')
      },
      CASE_TIMEOUT,
    )

    it(
      'Uppy, on the Express quick start app: a multipart upload reaches onComplete as the logged-in user, and the download route returns its bytes',
      async () => {
        const file = pngFile('dog.png')
        const inserts = expressApp.events.filter((e) => e.event === 'insert').length
        const walk = await walkThroughInChromium(browser, {
          pageUrl: `${expressApp.url}/uppy`,
          user: 'bob',
          file,
          keyOf: (o) => {
            if (o.successful?.length !== 1) throw new Error(`Uppy did not upload the file: ${JSON.stringify(o)}`)
            return o.successful[0].body.key
          },
        })
        const why = explain(expressApp)

        const body = (walk.outcome.successful as { body: { key: string; bucket: string; result: unknown } }[])[0]!.body
        expect(body.key, why).toMatch(/^users\/bob\/[0-9a-f-]{36}$/)
        expect(body.bucket).toBe(t.bucket)
        const insert = expressApp.events.filter((e) => e.event === 'insert')[inserts]
        expect(insert, why).toMatchObject({ row: { key: body.key, size: file.buffer.length, contentType: 'image/png', owner: 'bob' } })
        expect(body.result, why).toEqual({ id: insert!.id })

        expect(walk.download).toMatchObject({ status: 200, redirected: true })
        expect(walk.download.bytes.equals(file.buffer)).toBe(true)
        await expectDownloadRoute(`${expressApp.url}/uploads`, body.key, 'user=bob')
      },
      CASE_TIMEOUT,
    )

    // ---- Next.js (App Router): the route file, the React block and the client in a reader's Next app ----
    describe('Next.js (App Router): its route file, built by `next build` and served by `next start`', () => {
      const next = {
        route: readmeBlock('Next.js (App Router)', ['ts']),
        react: readmeBlock('React', ['tsx']),
      }
      /** The session cookie of the reader's signed-in user (their `db.users.bySession` knows it). */
      const session = randomBytes(16).toString('hex')
      let nextDir: ReturnType<typeof createAppDir>
      let nextApp: NextProcess & { url: string }

      beforeAll(
        async () => {
          nextDir = createAppDir('next')
          writeNextApp(nextDir.app, {
            ...nextRoute(next.route),
            'lib/db.ts': nextDatabase(session),
            'app/layout.tsx': NEXT_LAYOUT,
            'app/uploader.tsx': nextUploader(next.react),
            'app/page.tsx': NEXT_PAGE,
            // The client's page, as a static file of the same app (the route's origin).
            'public/client.html': clientPage({ ...blocks.client, code: fillIn(blocks.client.code, ENDPOINT, NEXT_ENDPOINT) }),
            'public/client.js': readFileSync(CLIENT_SCRIPT, 'utf8'),
          })
          // As on a build machine without the runtime's secrets ("needed by `next start`, not by `next build`").
          const { PRESIGN_SECRET: _, ...buildEnv } = appEnv(SECRET)
          await nextBuild(nextDir.app, buildEnv, NEXT_BUILD_TIMEOUT)
          nextApp = await nextStart(nextDir.app, { ...appEnv(SECRET), S3_BUCKET: t.bucket }, NEXT_START_TIMEOUT)
        },
        NEXT_BUILD_TIMEOUT + NEXT_START_TIMEOUT + 10_000,
      )

      afterAll(async () => {
        await nextApp?.stop()
        nextDir?.cleanup()
      })

      it(
        "the React block on the page: the upload completes as the session's user and the download route returns its bytes",
        async () => {
          const file = pngFile('next.png')
          const walk = await walkThroughInChromium(browser, {
            pageUrl: `${nextApp.url}/`,
            user: session,
            cookie: 'session', // the cookie the route block reads
            file,
            fileInput: 'input[type="file"]',
            ready: reactHydrated,
            outcome: uploaderOutcome,
            keyOf: (o) => {
              if (o.error !== undefined) throw new Error(`the Uploader shows an error: ${o.error}`)
              return o.key
            },
            downloadPath: '/api/uploads/download',
          })
          const why = `next start output:\n${nextApp.output()}`

          // The route block has no keyFor and no onComplete: the default key, and no id to show.
          expect(walk.outcome.key, why).toMatch(/^[0-9a-f-]{36}\/next\.png$/)
          expect(walk.outcome.id, why).toBe('')

          expect(walk.download).toMatchObject({ status: 200, redirected: true })
          expect(walk.download.url.startsWith(`${RGW_ENDPOINT}/${t.bucket}/`)).toBe(true)
          expect(walk.download.bytes.equals(file.buffer)).toBe(true)
          await expectDownloadRoute(`${nextApp.url}/api/uploads`, walk.outcome.key as string, `session=${session}`)
        },
        CASE_TIMEOUT,
      )

      it(
        'the browser client on a page of the same app: the upload completes and the download route returns its bytes',
        async () => {
          const file = pngFile('next-client.png')
          const walk = await walkThroughInChromium(browser, {
            pageUrl: `${nextApp.url}/client.html`,
            user: session,
            cookie: 'session',
            file,
            keyOf: (o) => o.key,
            downloadPath: '/api/uploads/download',
          })
          const why = `next start output:\n${nextApp.output()}`

          expect(walk.outcome.key, why).toMatch(/^[0-9a-f-]{36}\/next-client\.png$/)
          expect(walk.outcome.result, why).toBeNull()
          expect(walk.outcome.progress, why).toBe(1)

          expect(walk.download).toMatchObject({ status: 200, redirected: true })
          expect(walk.download.bytes.equals(file.buffer)).toBe(true)
          await expectDownloadRoute(`${nextApp.url}/api/uploads`, walk.outcome.key as string, `session=${session}`)
        },
        CASE_TIMEOUT,
      )
    })
  })
})
