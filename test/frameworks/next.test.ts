import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createFetchHandler } from '../../src/adapters/fetch'
import { describeBrowser, launchBrowser } from '../helpers/browser'
import { RGW_ENDPOINT, RGW_REGION, type TestBucket, createTestBucket, describeRgw, rgwClientConfig } from '../helpers/rgw'
import { freePort } from '../setup/rgw'

/**
 * The fetch adapter in a Next.js 16 App Router app: `examples/next` is built with `next build`
 * (Turbopack, with Next's own type check of the route file's exports) while PRESIGN_SECRET and the
 * S3 settings are unset, as on a CI runner that has no runtime secrets, then served by
 * `next start` against Ceph RGW and driven in Chromium through the page's `useUpload`.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const EXAMPLE = join(REPO, 'examples', 'next')
const NEXT_BIN = join(REPO, 'node_modules', 'next', 'dist', 'bin', 'next')
const SECRET = 'next-example-secret-0123456789'

// `next build` compiles with Turbopack and type-checks: about 70 s alone on 2 cores, more when other
// suites share them. The bounds below are generous so that a slow machine is not a failure; a
// build that hangs is killed at BUILD_TIMEOUT and fails with its output.
const BUILD_TIMEOUT = 240_000
const START_TIMEOUT = 60_000

describe('createFetchHandler and `next build` (NEXT_PHASE)', () => {
  const invalid = { prefix: '/api/uploads', bucket: 'uploads', secret: undefined as unknown as string, authorize: () => true as const }

  it('throws a missing secret at creation outside `next build`', () => {
    vi.stubEnv('NEXT_PHASE', 'phase-production-server')
    try {
      expect(() => createFetchHandler(invalid)).toThrow(/\[s3-presign-middleware\] `secret` is required/)
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('while `next build` loads route modules, creates the handler and throws the config error at its first request', async () => {
    vi.stubEnv('NEXT_PHASE', 'phase-production-build')
    let uploads: ReturnType<typeof createFetchHandler>
    try {
      uploads = createFetchHandler(invalid)
    } finally {
      vi.unstubAllEnvs()
    }
    const request = () => new Request('http://app.test/api/uploads/create', { method: 'POST' })
    await expect(uploads(request())).rejects.toThrow(/\[s3-presign-middleware\] `secret` is required/)
    // Every request, not only the first: the route never serves with options it could not check.
    await expect(uploads.POST(request())).rejects.toThrow(/`secret` is required/)
  })

  it('is exported under GET, POST and DELETE as the same handler (`export const { GET, POST, DELETE } = uploads`)', () => {
    const uploads = createFetchHandler({ ...invalid, secret: SECRET })
    expect(uploads.GET).toBe(uploads)
    expect(uploads.POST).toBe(uploads)
    expect(uploads.DELETE).toBe(uploads)
  })
})

/** Output of a child process so far, both streams interleaved. */
interface Child {
  process: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv): Child {
  // Its own process group, so that stopping it also stops the workers Next forks.
  const child = spawn(process.execPath, [NEXT_BIN, ...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { process: child, output: () => output, exited }
}

function stop(child: Child | undefined): Promise<unknown> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return Promise.resolve()
  try {
    process.kill(-child.process.pid!, 'SIGTERM')
  } catch {
    // already gone
  }
  return Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 5000))])
}

/** The env a child gets: this process's, without NODE_ENV=test (vitest's) and without any of `unset`. */
function envFor(extra: Record<string, string>, unset: string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', ...extra }
  for (const name of unset) delete env[name]
  return env
}

/** `next start` on a free port, ready when the page answers; rejects with its output when it exits or stalls. */
async function nextStart(cwd: string, env: NodeJS.ProcessEnv): Promise<Child & { url: string }> {
  const port = await freePort()
  const child = run(['start', '-p', String(port), '-H', '127.0.0.1'], cwd, env)
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + START_TIMEOUT
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`next start exited with ${child.process.exitCode}:\n${child.output()}`)
    const ok = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.ok,
      () => false,
    )
    if (ok) return { ...child, url }
    if (Date.now() > deadline) {
      await stop(child)
      throw new Error(`next start did not serve / within ${START_TIMEOUT / 1000} s:\n${child.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** The deepest folder holding every path given. */
function commonRoot(paths: string[]): string {
  const split = paths.map((path) => path.split(sep))
  const common: string[] = []
  for (let i = 0; split.every((parts) => parts[i] !== undefined && parts[i] === split[0]![i]); i++) common.push(split[0]![i]!)
  return common.join(sep) || sep
}

/**
 * A copy of the example with its dependencies linked in as an install would put them: `next`,
 * React and the TypeScript it type-checks with from this repository's node_modules, and
 * `s3-presign-middleware` as this repository (through package.json `exports` to dist/, as users
 * get it). Turbopack compiles only files under one root folder; the links point outside the copy
 * (and node_modules may itself be a link), so the copy's config names a root holding them all.
 */
function appCopy(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 's3pm-next-')))
  cpSync(EXAMPLE, dir, {
    recursive: true,
    filter: (source) => !/[\\/](\.next|node_modules)$/.test(source) && !source.endsWith('next-env.d.ts'),
  })
  const linked = ['next', 'react', 'react-dom', 'typescript', '@types/react', '@types/react-dom', '@types/node']
  const targets = linked.map((name) => realpathSync(join(REPO, 'node_modules', name)))
  linked.forEach((name, i) => {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true })
    symlinkSync(targets[i]!, join(dir, 'node_modules', name), 'dir')
  })
  symlinkSync(realpathSync(REPO), join(dir, 'node_modules', 's3-presign-middleware'), 'dir')
  const root = commonRoot([dir, realpathSync(REPO), ...targets])
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'next-example', private: true }, null, 2))
  writeFileSync(join(dir, 'next.config.mjs'), `export default { turbopack: { root: ${JSON.stringify(root)} } }\n`)
  return dir
}

describeRgw('the Next.js App Router example (examples/next) on RGW', () => {
  describeBrowser('built by `next build`, served by `next start`, used in Chromium', () => {
    let t: TestBucket
    let dir: string
    let build: { code: number | null; output: string }
    let server: Child & { url: string }
    let browser: Browser

    beforeAll(
      async () => {
        t = await createTestBucket('next')
        dir = appCopy()
        // As on a build machine: no runtime secret, no store settings.
        const building = run(['build'], dir, envFor({}, ['PRESIGN_SECRET', 'S3_ENDPOINT', 'S3_BUCKET', 'NEXT_PHASE']))
        const timer = setTimeout(() => void stop(building), BUILD_TIMEOUT)
        build = { code: await building.exited, output: building.output() }
        clearTimeout(timer)
        if (build.code !== 0) throw new Error(`next build failed (exit ${build.code}):\n${build.output}`)

        const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
        server = await nextStart(
          dir,
          envFor({
            PRESIGN_SECRET: SECRET,
            S3_ENDPOINT: RGW_ENDPOINT,
            S3_REGION: RGW_REGION,
            S3_BUCKET: t.bucket,
            S3_ACCESS_KEY_ID: credentials.accessKeyId,
            S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          }),
        )
        browser = await launchBrowser()
      },
      BUILD_TIMEOUT + START_TIMEOUT + 30_000,
    )

    afterAll(async () => {
      await browser?.close()
      await stop(server)
      await t?.cleanup()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('`next build` succeeds with PRESIGN_SECRET unset, type-checking the route file that exports GET, POST and DELETE', () => {
      expect(build.code).toBe(0)
      expect(build.output).toMatch(/Finished TypeScript/)
      expect(build.output).toMatch(/ƒ \/api\/uploads\/\[\.\.\.path\]/)
    })

    it('uploads a file picked on the page through useUpload straight to RGW; the GET download route answers with the same bytes', async () => {
      const bytes = randomBytes(48 * 1024)
      const page = await browser.newPage()
      const errors: Error[] = []
      page.on('pageerror', (error) => errors.push(error))
      try {
        await page.goto(`${server.url}/`)
        await page.getByLabel('File').setInputFiles({ name: 'report 2025.pdf', mimeType: 'application/pdf', buffer: bytes })
        const saved = page.getByRole('status')
        await saved.waitFor({ timeout: 20_000 }).catch(async (error: Error) => {
          const alert = await page
            .getByRole('alert')
            .textContent({ timeout: 100 })
            .catch(() => null)
          throw new Error(`the page did not show the saved file (${alert ?? 'no error shown'}): ${error.message}\n${server.output()}`)
        })
        const link = saved.getByRole('link')
        const key = await link.textContent()
        const href = await link.getAttribute('href')
        expect(key).toMatch(/^[0-9a-f-]{36}\/report[ _]2025\.pdf$/)
        expect(href).toBe(`/api/uploads/download?key=${encodeURIComponent(key!)}`)
        expect(errors).toEqual([])

        const redirect = await fetch(`${server.url}${href}`, { redirect: 'manual' })
        expect(redirect.status).toBe(302)
        const location = redirect.headers.get('location')!
        expect(location.startsWith(`${RGW_ENDPOINT}/${t.bucket}/`)).toBe(true)
        const download = await fetch(location)
        expect(download.status).toBe(200)
        expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true)
      } finally {
        await page.close()
      }
    })

    it("answers GET /download and Uppy's GET and DELETE routes itself, never Next's 405", async () => {
      const call = async (method: string, path: string) => {
        const res = await fetch(`${server.url}/api/uploads${path}`, { method, redirect: 'manual' })
        return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
      }
      // The uploaded file's GET /download is the 302 of the test above; a key that is not there is the route's own 404.
      const download = await call('GET', '/download?key=nothing-here.txt')
      expect(download.status).toBe(404)
      expect(download.type).toMatch(/^application\/json/)

      const params = await call('GET', '/s3/params?filename=a.txt&type=text%2Fplain')
      expect(params.status).toBe(200)
      expect(JSON.parse(params.body)).toMatchObject({ method: 'POST', url: expect.stringContaining(t.bucket), fields: expect.any(Object) })

      // Not an upload id this app issued: refused by the route, as JSON.
      for (const [method, path] of [
        ['GET', '/s3/multipart/not-a-token?key=a.txt'],
        ['GET', '/s3/multipart/not-a-token/1?key=a.txt'],
        ['DELETE', '/s3/multipart/not-a-token?key=a.txt'],
      ] as const) {
        const refused = await call(method, path)
        expect(refused.status, `${method} ${path}`).not.toBe(405)
        expect(refused.status, `${method} ${path}`).toBeGreaterThanOrEqual(400)
        expect(refused.type).toMatch(/^application\/json/)
        expect(JSON.parse(refused.body)).toEqual({ code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) })
      }

      const unknown = await call('GET', '/nowhere')
      expect(unknown.status).toBe(404)
      expect(JSON.parse(unknown.body)).toMatchObject({ code: 'not_found' })
    })

    it('served without PRESIGN_SECRET, the route answers 500 and the server logs the missing secret', async () => {
      const bare = await nextStart(dir, envFor({ S3_BUCKET: t.bucket }, ['PRESIGN_SECRET', 'S3_ENDPOINT']))
      try {
        const res = await fetch(`${bare.url}/api/uploads/create`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ filename: 'a.txt', contentType: 'text/plain', size: 1 }),
        })
        expect(res.status).toBe(500)
        await vi.waitFor(() => expect(bare.output()).toMatch(/\[s3-presign-middleware\] `secret` is required/), { timeout: 5000 })
      } finally {
        await stop(bare)
      }
    })
  })
})
