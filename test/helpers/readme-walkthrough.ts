import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { transform } from 'esbuild'
import type { Browser } from 'playwright-core'
import { repoRoot } from '../types/_fixture'
import { RGW_ENDPOINT, RGW_REGION, rgwClientConfig } from './rgw'
import { freePort } from '../setup/rgw'

/**
 * The README followed literally (issue 11): its code blocks, found by the section they stand in,
 * run as a reader's app and page, with only the values a reader fills in and the parts of their
 * app the README leaves to them (login, database, listen, a page) as glue. The glue lives in
 * the test that uses these helpers, so what it adds can be read next to the blocks it wraps.
 */

export interface ReadmeBlock {
  /** the heading text of the section the block is in */
  section: string
  /** the fence's language: `ts`, `js`, `tsx`, ... */
  lang: string
  /** README line of the block's first code line (1-based) */
  line: number
  code: string
}

const README = join(repoRoot, 'README.md')

/**
 * The fenced blocks of the one section whose heading starts with `heading` (any level), up to
 * the next heading of the same or a higher level (its subsections included). Throws when no
 * heading or several match, so a renamed or duplicated section fails here, by name.
 */
export function readmeSection(heading: string, markdown = readFileSync(README, 'utf8')): ReadmeBlock[] {
  const lines = markdown.split('\n')
  const headings: { index: number; level: number; text: string }[] = []
  const fences: { start: number; end: number; lang: string }[] = []
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)\s*$/.exec(lines[i] ?? '')
    if (fence) {
      let end = i + 1
      while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++
      fences.push({ start: i, end, lang: fence[1] ?? '' })
      i = end
      continue
    }
    const h = /^(#{1,6})\s+(.*?)\s*$/.exec(lines[i] ?? '')
    if (h) headings.push({ index: i, level: h[1]!.length, text: h[2]! })
  }
  const matches = headings.filter((h) => h.text.startsWith(heading))
  if (matches.length !== 1) {
    throw new Error(
      `README.md: expected one section whose heading starts with "${heading}", found ${matches.length}` +
        (matches.length ? `: ${matches.map((m) => `line ${m.index + 1} "${m.text}"`).join(', ')}` : ''),
    )
  }
  const section = matches[0]!
  const next = headings.find((h) => h.index > section.index && h.level <= section.level)?.index ?? lines.length
  return fences
    .filter((f) => f.start > section.index && f.start < next)
    .map((f) => ({ section: section.text, lang: f.lang, line: f.start + 2, code: lines.slice(f.start + 1, f.end).join('\n') }))
}

/** The one block of a language in `langs` in the section `heading` (see `readmeSection`); throws unless exactly one. */
export function readmeBlock(heading: string, langs: string[]): ReadmeBlock {
  const blocks = readmeSection(heading).filter((b) => langs.includes(b.lang))
  if (blocks.length !== 1) {
    throw new Error(
      `README.md section "${heading}": expected one ${langs.join('/')} block, found ${blocks.length}` +
        (blocks.length ? ` (lines ${blocks.map((b) => b.line).join(', ')})` : ''),
    )
  }
  return blocks[0]!
}

/** A value a reader fills in (`'my-uploads'` → their bucket): `from` must occur exactly once. */
export function fillIn(code: string, from: string, to: string): string {
  const count = code.split(from).length - 1
  if (count !== 1) throw new Error(`fill-in: expected "${from}" once in the README block, found it ${count} times`)
  return code.replace(from, () => to)
}

/** `text` on its own lines right after the one line matching `line` (e.g. middleware before the upload mount). */
export function insertAfterLine(code: string, line: RegExp, text: string): string {
  const lines = code.split('\n')
  const at = lines.flatMap((l, i) => (line.test(l) ? [i] : []))
  if (at.length !== 1) throw new Error(`glue: expected one line matching ${line} in the README block, found ${at.length}`)
  lines.splice(at[0]! + 1, 0, text)
  return lines.join('\n')
}

/** TypeScript (a README `ts` block plus glue) to the JavaScript Node runs, as a reader's build would. */
export async function toJavaScript(code: string): Promise<string> {
  return (await transform(code, { loader: 'ts', format: 'esm', target: 'node20' })).code
}

/**
 * A throwaway app folder that depends on this package the way users do: `<dir>/app` is an ES
 * module package with `node_modules/s3-presign-middleware` linking this repo (so imports go
 * through package.json `exports` to `dist/`), and `<dir>/node_modules` links this repo's
 * dependencies (express, koa, ...).
 */
export function createAppDir(prefix: string): { app: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `s3pm-walkthrough-${prefix}-`)))
  const app = join(dir, 'app')
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
  mkdirSync(join(app, 'node_modules'), { recursive: true })
  symlinkSync(repoRoot, join(app, 'node_modules', 's3-presign-middleware'), 'dir')
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'readme-walkthrough-app', private: true, type: 'module' }))
  return { app, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * The environment a reader's app gets on RGW: the SDK's own variables for credentials, region
 * and endpoint (`AWS_ENDPOINT_URL_S3`, which the SDK's endpoint resolution reads, so the
 * README's blocks need no `s3` option), `PRESIGN_SECRET` as `openssl rand -base64 32` makes it.
 * Every other `AWS_*` variable of the test process (a profile, a config file) is dropped.
 */
export function appEnv(secret: string): NodeJS.ProcessEnv {
  const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_') || name === 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED') env[name] = value
  }
  return {
    ...env,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: RGW_REGION,
    AWS_ENDPOINT_URL_S3: RGW_ENDPOINT,
    PRESIGN_SECRET: secret,
    NO_COLOR: '1',
  }
}

/** Lines the app's glue prints as `@@walkthrough {json}`: `listening` with its port, the stubs' calls. */
export const REPORT_PREFIX = '@@walkthrough '

export interface BootedApp {
  url: string
  /** every `@@walkthrough` event the app printed so far */
  events: Record<string, unknown>[]
  /** everything else it printed (stdout and stderr), for failure messages */
  output: () => string
  stop: () => Promise<void>
}

/**
 * Writes `source` to `<app>/<file>`, runs it with `node`, and resolves once it reports
 * `{ event: 'listening', port }` (15 s at most).
 */
export function bootApp(app: string, file: string, source: string, env: NodeJS.ProcessEnv): Promise<BootedApp> {
  const path = join(app, file)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, source)
  const child: ChildProcess = spawn(process.execPath, [path], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const events: Record<string, unknown>[] = []
  let output = ''
  let pending = ''
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`${file} did not report listening within 15 s:\n${output}`))
    }, 15_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (!line.startsWith(REPORT_PREFIX)) {
          output += `${line}\n`
          continue
        }
        const event = JSON.parse(line.slice(REPORT_PREFIX.length)) as Record<string, unknown>
        events.push(event)
        if (event.event === 'listening') {
          clearTimeout(timer)
          resolve({ url: `http://127.0.0.1:${event.port}`, events, output: () => output, stop })
        }
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited (${code ?? signal}) before listening:\n${output}`))
    })
  })
}

// ---- Next.js: a reader's App Router app, built and served by this repository's `next` ----

const NEXT_BIN = join(repoRoot, 'node_modules', 'next', 'dist', 'bin', 'next')

/** tsconfig.json as create-next-app writes it: strict, bundler resolution, `@/*` from the app's root. */
const NEXT_TSCONFIG = {
  compilerOptions: {
    target: 'ES2017',
    lib: ['dom', 'dom.iterable', 'esnext'],
    allowJs: true,
    skipLibCheck: true,
    strict: true,
    noEmit: true,
    esModuleInterop: true,
    module: 'esnext',
    moduleResolution: 'bundler',
    resolveJsonModule: true,
    isolatedModules: true,
    jsx: 'react-jsx',
    incremental: true,
    plugins: [{ name: 'next' }],
    paths: { '@/*': ['./*'] },
  },
  include: ['next-env.d.ts', '**/*.ts', '**/*.tsx', '.next/types/**/*.ts', '.next/dev/types/**/*.ts'],
  exclude: ['node_modules'],
}

/** The deepest folder holding every path given. */
function commonRoot(paths: string[]): string {
  const split = paths.map((path) => path.split(sep))
  const common: string[] = []
  for (let i = 0; split.every((parts) => parts[i] !== undefined && parts[i] === split[0]![i]); i++) common.push(split[0]![i]!)
  return common.join(sep) || sep
}

/**
 * Makes `app` (from `createAppDir`) a Next.js App Router app holding `files` (paths relative to
 * `app`), with create-next-app's tsconfig.json and a next.config.mjs naming the Turbopack root:
 * Turbopack compiles only files under its root, and the app's links (this repository for the
 * package, its node_modules for next, React and TypeScript) lead outside the temp folder, so the
 * root is the deepest folder holding them all.
 */
export function writeNextApp(app: string, files: Record<string, string>): void {
  const root = commonRoot([app, realpathSync(repoRoot), realpathSync(join(repoRoot, 'node_modules'))])
  const all: Record<string, string> = {
    'tsconfig.json': JSON.stringify(NEXT_TSCONFIG, null, 2),
    'next.config.mjs': `export default { turbopack: { root: ${JSON.stringify(root)} } }\n`,
    ...files,
  }
  for (const [name, text] of Object.entries(all)) {
    mkdirSync(dirname(join(app, name)), { recursive: true })
    writeFileSync(join(app, name), text)
  }
}

export interface NextProcess {
  /** stdout and stderr so far, interleaved */
  output: () => string
  exited: Promise<number | null>
  /** SIGTERM to its process group (Next forks workers), then waits for it (5 s at most) */
  stop: () => Promise<void>
}

/** `next <args>` in `app`, built for production, with no telemetry; NEXT_PHASE is Next's to set. */
function runNext(args: string[], app: string, env: NodeJS.ProcessEnv): NextProcess {
  const childEnv: NodeJS.ProcessEnv = { ...env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' }
  delete childEnv.NEXT_PHASE
  const child = spawn(process.execPath, [NEXT_BIN, ...args], { cwd: app, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    try {
      process.kill(-child.pid!, 'SIGTERM')
    } catch {
      return // already gone
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
  }
  return { output: () => output, exited, stop }
}

/** `next build` in `app`: resolves to its output; rejects with it when the build fails or runs past `timeout` ms. */
export async function nextBuild(app: string, env: NodeJS.ProcessEnv, timeout: number): Promise<string> {
  const build = runNext(['build'], app, env)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    void build.stop()
  }, timeout)
  const code = await build.exited
  clearTimeout(timer)
  if (code !== 0) throw new Error(`next build ${timedOut ? `ran past ${timeout / 1000} s` : `failed (exit ${code})`}:\n${build.output()}`)
  return build.output()
}

/** `next start` on a free loopback port, once `/` answers; rejects with its output when it exits or stalls past `timeout` ms. */
export async function nextStart(app: string, env: NodeJS.ProcessEnv, timeout: number): Promise<NextProcess & { url: string }> {
  const port = await freePort()
  const server = runNext(['start', '-p', String(port), '-H', '127.0.0.1'], app, env)
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeout
  for (;;) {
    const exit = await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 250, 'running'))])
    if (exit !== 'running') throw new Error(`next start exited (${exit}):\n${server.output()}`)
    const ok = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.ok,
      () => false,
    )
    if (ok) return { ...server, url }
    if (Date.now() > deadline) {
      await server.stop()
      throw new Error(`next start did not serve / within ${timeout / 1000} s:\n${server.output()}`)
    }
  }
}

/**
 * The page of "In the browser: the client": the README's block as the page's module script,
 * verbatim. Glue around it: the two elements it names (`input`, `bar`), a wait for a file to be
 * picked (the block reads `input.files[0]` as it runs), an import map that resolves the block's
 * `s3-presign-middleware/client` to the built client served at `/client.js` (what a bundler
 * does), and `window.walkthrough` for the test to read. A block that throws surfaces as a page
 * error.
 */
export function clientPage(block: ReadmeBlock): string {
  return `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>README walkthrough: the client</title>
<input type="file" id="file"> <progress id="bar" value="0" max="1"></progress>
<script type="importmap">{ "imports": { "s3-presign-middleware/client": "/client.js" } }</script>
<script type="module">
// walkthrough glue: the names the README's block uses, and a picked file before it runs
const input = document.querySelector('#file')
const bar = document.querySelector('#bar')
await new Promise((resolve) => input.addEventListener('change', resolve, { once: true }))
// README.md line ${block.line} ("${block.section}"), verbatim:
${block.code}
// walkthrough glue: what the test reads
window.walkthrough = { key, result, progress: bar.value }
</script>
</html>
`
}

/** The built client a page loads (what `s3-presign-middleware/client` resolves to in a bundle). */
export const CLIENT_SCRIPT = join(repoRoot, 'dist', 'client.js')

export interface WalkResult {
  /** what the page put in `window.walkthrough` */
  outcome: Record<string, unknown>
  /** the page's download of the key through `GET <downloadPath>?key=` (fetch follows the 302 to S3) */
  download: { status: number; redirected: boolean; url: string; bytes: Buffer }
}

/**
 * In a fresh Chromium context logged in as `user` (a `user` cookie the app's login stub reads, or
 * the cookie named by `cookie`): opens `pageUrl`, waits for `ready` when given, picks `file` in
 * `fileInput` (setInputFiles), waits for the page's outcome (`window.walkthrough` unless `outcome`
 * says where it is; 15 s by default), then downloads `keyOf(outcome)` from the page with
 * `fetch(downloadPath + '?key=' + key)`. Page errors and console lines go into failure messages.
 */
export async function walkThroughInChromium(
  browser: Browser,
  options: {
    pageUrl: string
    /** the login cookie's value */
    user: string
    /** the login cookie's name (default `user`) */
    cookie?: string
    file: { name: string; mimeType: string; buffer: Buffer }
    /** the file input (default `#file`) */
    fileInput?: string
    /** a function run in the page, truthy once the page can take the file (e.g. hydrated) */
    ready?: () => unknown
    /** a function run in the page, truthy once the upload is over: the outcome (default `window.walkthrough`) */
    outcome?: () => unknown
    /** where the key is in the outcome: `(outcome) => key` */
    keyOf: (outcome: Record<string, any>) => string
    downloadPath?: string
    /** ms to wait for the outcome (default 15 s) */
    timeout?: number
  },
): Promise<WalkResult> {
  const context = await browser.newContext()
  try {
    await context.addCookies([{ name: options.cookie ?? 'user', value: options.user, url: options.pageUrl }])
    const page = await context.newPage()
    const log: string[] = []
    // A README block that throws (a refused upload, a missing name) fails the walk at once.
    let pageError: (error: Error) => void = () => {}
    const failed = new Promise<never>((_, reject) => {
      pageError = reject
    })
    page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`))
    page.on('pageerror', (e) => {
      log.push(`pageerror: ${e.message}`)
      pageError(new Error('the page threw'))
    })
    page.on('requestfailed', (r) => log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`))
    page.on('response', (r) => {
      if (r.status() >= 400) log.push(`response: ${r.status()} ${r.request().method()} ${r.url()}`)
    })
    await page.goto(options.pageUrl)
    if (options.ready) {
      await page.waitForFunction(options.ready, undefined, { timeout: 10_000 }).catch((error: Error) => {
        throw new Error(`the page never got ready (${error.message.split('\n')[0]}):\n  ${log.join('\n  ')}`)
      })
    }
    await page.setInputFiles(options.fileInput ?? '#file', options.file)
    const done = page.waitForFunction(options.outcome ?? (() => (window as any).walkthrough), undefined, {
      timeout: options.timeout ?? 15_000,
    })
    const outcome = (await Promise.race([done, failed])
      .then((handle) => handle.jsonValue())
      .catch((error: Error) => {
        throw new Error(`the page never showed the upload's outcome (${error.message.split('\n')[0]}):\n  ${log.join('\n  ')}`)
      })) as Record<string, unknown>
    const key = options.keyOf(outcome)
    const download = await page.evaluate(
      async ({ path, key }) => {
        const res = await fetch(`${path}?key=${encodeURIComponent(key)}`)
        const bytes = new Uint8Array(await res.arrayBuffer())
        let binary = ''
        for (const b of bytes) binary += String.fromCharCode(b)
        return { status: res.status, redirected: res.redirected, url: res.url, base64: btoa(binary) }
      },
      { path: options.downloadPath ?? '/uploads/download', key },
    )
    return {
      outcome,
      download: {
        status: download.status,
        redirected: download.redirected,
        url: download.url,
        bytes: Buffer.from(download.base64, 'base64'),
      },
    }
  } finally {
    await context.close()
  }
}
