import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestBucket, describeRgw, putRaw, rgwClientConfig, s3ErrorCode, type TestBucket } from '../helpers/rgw'
import { silentS3 } from './_silent-s3'
import { freePort } from '../setup/rgw'

/**
 * The runtime suites: the fetch example of examples/runtimes/ served by Bun, Deno or workerd in a
 * child process, against Ceph RGW, driven over HTTP from the test. Each runtime's binary comes from
 * an environment variable (BUN_PATH, DENO_PATH, WORKERD_PATH; scripts/install-runtimes.sh installs
 * them from the npm registry). Without one, the suite fails in CI and is skipped with a printed
 * reason elsewhere, like the RGW suites.
 */

/** How long a runtime may take to serve /health, and one test (start plus its uploads) in all. */
const READY_MS = 20_000
const TEST_MS = 45_000

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DIST_FETCH = fileURLToPath(new URL('../../dist/fetch.js', import.meta.url))

/** The binary of a runtime, or why there is none. */
export function runtimeBinary(variable: string): { path: string } | { missing: string } {
  const path = process.env[variable]
  if (!path) return { missing: `${variable} is not set (bash scripts/install-runtimes.sh <dir> installs it and prints the path)` }
  try {
    accessSync(path, constants.X_OK)
  } catch {
    return { missing: `${variable}=${path} is not an executable file` }
  }
  return { path }
}

/**
 * `describe` for one runtime's suite: RGW's (real, failing in CI, or skipped with a reason) when the
 * binary is there; in CI a suite with one failing test when it is not; elsewhere `describe.skip`
 * and a warning.
 */
export function describeRuntime(name: string, variable: string, fn: (binary: string) => void): void {
  const found = runtimeBinary(variable)
  if ('path' in found) {
    if (!existsSync(DIST_FETCH)) throw new Error(`[runtimes] ${DIST_FETCH} is missing: run \`npm run build\` first`)
    describeRgw(name, () => fn(found.path))
  } else if (process.env.CI) {
    describe(name, () => {
      it(`needs ${variable}`, () => {
        throw new Error(`[runtimes] ${found.missing}; CI installs the runtimes, so this is a failure, not a skip.`)
      })
    })
  } else {
    console.warn(`[runtimes] ${name} SKIPPED: ${found.missing}. With CI set this is a failure.`)
    describe.skip(name, () => fn(''))
  }
}

/** What a child gets besides its own variables: no AWS_* of the test's shell, no update checks, no colours. */
const QUIET_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  NO_COLOR: '1',
  DENO_NO_UPDATE_CHECK: '1',
  DO_NOT_TRACK: '1',
}

export interface RunningServer {
  url: string
  child: ChildProcess
  /** What the child printed so far (stdout and stderr), for failure messages. */
  output(): string
  stop(): Promise<void>
}

/**
 * Spawns `command` with `env` (added to QUIET_ENV) and waits until
 * `GET <url>/health` answers 200, at most `readyMs`. Fails early, with the child's output, when
 * it exits first.
 */
export async function startServer(
  command: string,
  args: string[],
  options: { port: number; env: Record<string, string>; readyMs?: number },
): Promise<RunningServer> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...QUIET_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let printed = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    printed += chunk.toString('utf8')
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    printed += chunk.toString('utf8')
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${options.port}`
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(killer)
  }

  const deadline = Date.now() + (options.readyMs ?? READY_MS)
  let lastError = ''
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${command} exited (${child.exitCode ?? child.signalCode}) before serving:\n${printed}`)
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
      if (res.status === 200 && (await res.text()) === 'ok') break
      lastError = `HTTP ${res.status}`
    } catch (error) {
      lastError = (error as Error).message
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${command} did not serve ${url}/health within ${options.readyMs ?? READY_MS} ms (${lastError}):\n${printed}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
  return { url, child, output: () => printed, stop }
}

/** The variables examples/runtimes/app.mjs reads, for RGW and `bucket`. */
export function appEnv(bucket: string, extra: Record<string, string> = {}): Record<string, string> {
  const s3 = rgwClientConfig()
  const credentials = s3.credentials as { accessKeyId: string; secretAccessKey: string }
  return {
    S3_BUCKET: bucket,
    S3_ENDPOINT: String(s3.endpoint),
    S3_REGION: String(s3.region),
    S3_ACCESS_KEY_ID: credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    PRESIGN_SECRET: 'runtimes-test-secret-0123456789abcdef',
    ...extra,
  }
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = text
  }
  return { status: res.status, body: parsed }
}

/** Downloads `key` through the app's `/download` (a HeadObject from the runtime, then a presigned GET). */
async function downloadBytes(app: string, key: string): Promise<Uint8Array> {
  const download = await postJson(`${app}/uploads/download`, { key })
  expect(download.status, JSON.stringify(download.body)).toBe(200)
  const got = await fetch(download.body.url, { signal: AbortSignal.timeout(15_000) })
  expect(got.status).toBe(200)
  return new Uint8Array(await got.arrayBuffer())
}

const bytesOf = (size: number, seed: number) => Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251)

/**
 * create -> PUT -> complete -> download through the app at `app`, with RGW's refusals on the way:
 * a PUT of one byte more than was signed (RGW answers 403: the length is in the signature), and a
 * complete before the bytes are there (the app's HeadObject, through the runtime's HTTP handler,
 * finds nothing: 422).
 */
export async function singleUploadRoundTrip(app: string): Promise<void> {
  const bytes = bytesOf(1000, 7)
  const created = await postJson(`${app}/uploads/create`, {
    filename: 'hello.bin',
    contentType: 'application/octet-stream',
    size: bytes.length,
  })
  expect(created.status, JSON.stringify(created.body)).toBe(200)
  expect(created.body).toMatchObject({ strategy: 'single', method: 'PUT' })
  const { url, headers, token, key } = created.body as { url: string; headers: Record<string, string>; token: string; key: string }

  const tooLong = await putRaw(url, { headers, body: bytesOf(1001, 7) })
  expect(tooLong.status, tooLong.text).toBe(403)
  expect(s3ErrorCode(tooLong.text)).toBe('SignatureDoesNotMatch')

  const early = await postJson(`${app}/uploads/complete`, { token })
  expect(early.status, JSON.stringify(early.body)).toBe(422)
  expect(early.body.code).toBe('verification_failed')

  const put = await putRaw(url, { headers, body: bytes })
  expect(put.status, put.text).toBe(200)

  const done = await postJson(`${app}/uploads/complete`, { token })
  expect(done.status, JSON.stringify(done.body)).toBe(200)
  expect(done.body).toMatchObject({ key, size: bytes.length, result: { key, size: bytes.length } })

  expect(Buffer.from(await downloadBytes(app, key)).equals(Buffer.from(bytes))).toBe(true)
}

/**
 * A multipart upload through the app at `app` (served with MULTIPART_THRESHOLD=5 MiB): create
 * (CreateMultipartUpload), sign-parts, two parts PUT to RGW, list-parts, complete (ListParts and
 * CompleteMultipartUpload, XML answers parsed by the SDK on that runtime), download.
 */
export async function multipartRoundTrip(app: string): Promise<void> {
  const MiB = 1024 * 1024
  const bytes = bytesOf(6 * MiB + 123, 3)
  const created = await postJson(`${app}/uploads/create`, {
    filename: 'big.bin',
    contentType: 'application/octet-stream',
    size: bytes.length,
  })
  expect(created.status, JSON.stringify(created.body)).toBe(200)
  expect(created.body).toMatchObject({ strategy: 'multipart', partCount: 2 })
  const { token, key, partSize } = created.body as { token: string; key: string; partSize: number }
  expect(partSize).toBeGreaterThanOrEqual(5 * MiB)

  const signed = await postJson(`${app}/uploads/sign-parts`, { token, partNumbers: [1, 2] })
  expect(signed.status, JSON.stringify(signed.body)).toBe(200)
  const parts: Array<{ partNumber: number; etag: string }> = []
  for (const part of signed.body.parts as Array<{ partNumber: number; url: string; headers: Record<string, string> }>) {
    const body = bytes.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize)
    const put = await putRaw(part.url, { headers: part.headers, body })
    expect(put.status, put.text).toBe(200)
    parts.push({ partNumber: part.partNumber, etag: put.headers.get('etag') ?? '' })
  }

  const listed = await postJson(`${app}/uploads/list-parts`, { token })
  expect(listed.status, JSON.stringify(listed.body)).toBe(200)
  expect(listed.body.parts.map((p: { partNumber: number; size: number }) => [p.partNumber, p.size])).toEqual([
    [1, partSize],
    [2, bytes.length - partSize],
  ])

  const done = await postJson(`${app}/uploads/complete`, { token, parts })
  expect(done.status, JSON.stringify(done.body)).toBe(200)
  expect(done.body).toMatchObject({ key, size: bytes.length })

  expect(Buffer.from(await downloadBytes(app, key)).equals(Buffer.from(bytes))).toBe(true)
}

/** create (no S3 call for a single PUT) then complete (a HeadObject the silent store never answers), timed. */
export async function completeAgainstSilentS3(app: string): Promise<{ status: number; code: string; ms: number }> {
  const created = await postJson(`${app}/uploads/create`, { filename: 'a.txt', contentType: 'text/plain', size: 3 })
  expect(created.status, JSON.stringify(created.body)).toBe(200)
  const started = Date.now()
  const done = await postJson(`${app}/uploads/complete`, { token: created.body.token })
  return { status: done.status, code: done.body?.code, ms: Date.now() - started }
}

export interface Launch {
  command: string
  args: string[]
}

/**
 * The suite every runtime runs: one app on RGW for the round trips (single PUT with refusals,
 * multipart with the threshold at 5 MiB), and one on a silent S3 for the timeout. `prepare` runs
 * once (e.g. bundling) and says how to launch the example on a port (which it also gets as PORT);
 * `extra` adds the runtime's own tests.
 */
export function runtimeSuite(
  name: string,
  variable: string,
  prepare: (binary: string) => Promise<(port: number) => Launch>,
  extra?: (binary: string) => void,
): void {
  describeRuntime(name, variable, (binary) => {
    let launch: (port: number) => Launch
    let bucket: TestBucket | undefined
    const servers: RunningServer[] = []
    const start = async (env: Record<string, string>) => {
      const port = await freePort()
      const { command, args } = launch(port)
      const server = await startServer(command, args, { port, env: { ...env, PORT: String(port) } })
      servers.push(server)
      return server
    }
    /** Runs `check` on a started app; a failure carries what the runtime printed. */
    const showingOutput = async (app: RunningServer, check: () => Promise<unknown>) => {
      try {
        await check()
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- ${name} printed:\n${app.output()}`, { cause: error })
      }
    }

    beforeAll(async () => {
      launch = await prepare(binary)
      bucket = await createTestBucket(`rt-${name}`)
    })
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()))
      await bucket?.cleanup()
    })

    it(
      'serves create -> PUT -> complete -> download on RGW, and RGW refuses a PUT longer than signed',
      async () => {
        const app = await start(appEnv(bucket!.bucket))
        await showingOutput(app, () => singleUploadRoundTrip(app.url))
      },
      TEST_MS,
    )

    it(
      'serves a multipart upload (two parts, 5 MiB threshold) on RGW',
      async () => {
        const app = await start(appEnv(bucket!.bucket, { MULTIPART_THRESHOLD: String(5 * 1024 * 1024) }))
        await showingOutput(app, () => multipartRoundTrip(app.url))
      },
      TEST_MS,
    )

    it(
      'answers 504 storage_timeout within its timeout when S3 accepts the connection and never answers',
      async () => {
        const silent = await silentS3()
        try {
          const app = await start(appEnv(bucket!.bucket, { S3_ENDPOINT: silent.endpoint, S3_TIMEOUT_MS: '1500' }))
          const { status, code, ms } = await completeAgainstSilentS3(app.url)
          expect({ status, code }).toEqual({ status: 504, code: 'storage_timeout' })
          expect(ms).toBeGreaterThanOrEqual(1400)
          expect(ms).toBeLessThan(6000)
        } finally {
          await silent.close()
        }
      },
      TEST_MS,
    )

    extra?.(binary)
  })
}

/**
 * A test that runs test/runtimes/_which-handler.ts on the runtime (`command args... <script>`) and
 * expects the S3 client the core builds there to get `handler`.
 */
export function itPicksHandler(command: string, args: string[], handler: string, usable: boolean): void {
  it(`gives the S3 clients the core builds the ${handler}`, async () => {
    const { stdout } = await run(command, [...args, 'test/runtimes/_which-handler.ts'])
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({ nodeHttpUsable: usable, handler })
  })
}

function run(command: string, args: string[]): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: ROOT, timeout: 30_000, env: QUIET_ENV }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stdout}${stderr}`)) : resolve({ stdout }),
    )
  })
}
