import { spawn, spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'

/**
 * vitest globalSetup: makes `npm test` run the real-S3 suites on a machine with Ceph installed,
 * with no separate start step. Before the test files run it decides (`planRgw`):
 *
 * - `S3_TEST_ENDPOINT` set, or `S3_TEST_AUTOSTART=0`: nothing to do (`.ci/run` starts RGW itself
 *   and sets the variable);
 * - an S3 server already answers on 127.0.0.1:`RGW_PORT` (default 7480, e.g. after
 *   `npm run rgw:start`): the suites use it;
 * - Ceph is not installed: nothing changes (the RGW suites skip with a reason, or fail with `CI` set);
 * - otherwise: `scripts/start-rgw.sh` starts a throwaway cluster in a temp dir, on `RGW_PORT` if it
 *   is free and on free ports if something that is not S3 holds it (the monitor moves off 3300 the
 *   same way), and the teardown stops it (`scripts/stop-rgw.sh`).
 *
 * Test files get the endpoint and keys through vitest's `provide`/`inject` (`s3TestEnv`), which
 * test/helpers/rgw.ts reads before `process.env`.
 */

/** What the RGW suites read: the same names as the environment variables. */
export interface S3TestEnv {
  S3_TEST_ENDPOINT: string
  S3_TEST_ACCESS_KEY: string
  S3_TEST_SECRET_KEY: string
  S3_TEST_UPLOAD_ACCESS_KEY: string
  S3_TEST_UPLOAD_SECRET_KEY: string
  /** The cluster dir, when this setup started RGW (its logs are in `<dir>/log`). */
  RGW_DIR?: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by test/setup/rgw.ts when it found or started RGW; null when the environment decides. */
    s3TestEnv: S3TestEnv | null
  }
}

/** What scripts/start-rgw.sh needs on PATH. */
export const CEPH_PROGRAMS = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph', 'monmaptool', 'uuidgen', 'curl']

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DEFAULT_PORT = 7480
const DEFAULT_MON_PORT = 3300

export type RgwPlan =
  | { action: 'none'; reason: string; env: S3TestEnv | null }
  | { action: 'start'; reason: string; port: number; monPort: number; env: S3TestEnv }

type Env = Record<string, string | undefined>

function keys(env: Env) {
  return {
    S3_TEST_ACCESS_KEY: env.S3_TEST_ACCESS_KEY ?? env.RGW_ACCESS_KEY ?? 'AKIATESTTESTTEST0001',
    S3_TEST_SECRET_KEY: env.S3_TEST_SECRET_KEY ?? env.RGW_SECRET_KEY ?? 'testsecrettestsecrettestsecret0001',
    S3_TEST_UPLOAD_ACCESS_KEY: env.S3_TEST_UPLOAD_ACCESS_KEY ?? env.RGW_UPLOAD_ACCESS_KEY ?? 'AKIATESTUPLOADER0001',
    S3_TEST_UPLOAD_SECRET_KEY: env.S3_TEST_UPLOAD_SECRET_KEY ?? env.RGW_UPLOAD_SECRET_KEY ?? 'uploadsecretuploadsecretupload0001',
  }
}

/** The programs of `CEPH_PROGRAMS` that are not executable on `path`. */
export function missingCephPrograms(path = process.env.PATH ?? ''): string[] {
  const dirs = path.split(delimiter).filter(Boolean)
  return CEPH_PROGRAMS.filter(
    (name) =>
      !dirs.some((dir) => {
        try {
          accessSync(join(dir, name), constants.X_OK)
          return true
        } catch {
          return false
        }
      }),
  )
}

/**
 * Whether an S3 server answers an anonymous GET at the URL (2 s): RGW lists the anonymous user's
 * buckets, other stores answer an XML `<Error>`. The same test as test/helpers/rgw.ts.
 */
export async function answersS3(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
    const body = await res.text().catch(() => '')
    return res.status < 500 && /<ListAllMyBucketsResult[\s>]|<Error>\s*<Code>/.test(body)
  } catch {
    return false
  }
}

/** Whether a server may listen on 127.0.0.1:port now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** A port the system calls free on 127.0.0.1 (free when returned; nothing holds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * The S3 port (`preferred` when free) and the monitor's first port (`preferredMon` when it and the
 * next one, msgr v1, are free), never overlapping.
 */
export async function choosePorts(preferred: number, preferredMon: number): Promise<{ port: number; monPort: number }> {
  const port = (await portIsFree(preferred)) ? preferred : await freePort()
  const pairFree = async (p: number) => p !== port && p + 1 !== port && (await portIsFree(p)) && (await portIsFree(p + 1))
  if (await pairFree(preferredMon)) return { port, monPort: preferredMon }
  for (let i = 0; i < 50; i++) {
    const p = await freePort()
    if (p < 65535 && (await pairFree(p))) return { port, monPort: p }
  }
  throw new Error('[rgw setup] found no two adjacent free ports for the Ceph monitor')
}

/** What the global setup will do in this environment (it probes 127.0.0.1 and PATH; starts nothing). */
export async function planRgw(env: Env = process.env): Promise<RgwPlan> {
  if (env.S3_TEST_ENDPOINT) return { action: 'none', reason: `S3_TEST_ENDPOINT is set (${env.S3_TEST_ENDPOINT})`, env: null }
  if (env.S3_TEST_AUTOSTART === '0') return { action: 'none', reason: 'S3_TEST_AUTOSTART=0', env: null }
  const wanted = Number(env.RGW_PORT ?? DEFAULT_PORT)
  const endpoint = `http://127.0.0.1:${wanted}`
  if (await answersS3(endpoint)) {
    return { action: 'none', reason: `an S3 server answers at ${endpoint}`, env: { S3_TEST_ENDPOINT: endpoint, ...keys(env) } }
  }
  const missing = missingCephPrograms(env.PATH)
  if (missing.length > 0) {
    return { action: 'none', reason: `Ceph is not installed (not on PATH: ${missing.join(', ')})`, env: null }
  }
  const { port, monPort } = await choosePorts(wanted, Number(env.RGW_MON_PORT ?? DEFAULT_MON_PORT))
  return {
    action: 'start',
    reason:
      port === wanted
        ? `nothing answers S3 at ${endpoint} and Ceph is installed`
        : `127.0.0.1:${wanted} is held by something that is not S3; Ceph is installed, so RGW goes on port ${port}`,
    port,
    monPort,
    env: { S3_TEST_ENDPOINT: `http://127.0.0.1:${port}`, ...keys(env) },
  }
}

function runScript(script: string, args: string[], env: Env): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(ROOT, 'scripts', script), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => {
      output += d
    })
    child.stderr.on('data', (d: Buffer) => {
      output += d
    })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, output }))
  })
}

const LAST_DIR = '/tmp/rgw-last-dir'

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const plan = await planRgw()
  if (plan.action === 'none') {
    project.provide('s3TestEnv', plan.env)
    return undefined
  }

  const dir = await mkdtemp(join(tmpdir(), 'rgw-vitest-'))
  // start-rgw.sh records its dir for a bare `npm run rgw:stop`; keep pointing at the developer's own cluster.
  const lastDir = await readFile(LAST_DIR, 'utf8').catch(() => undefined)
  const started = performance.now()
  const { code, output } = await runScript('start-rgw.sh', [], {
    ...process.env,
    RGW_DIR: dir,
    RGW_PORT: String(plan.port),
    RGW_MON_PORT: String(plan.monPort),
    RGW_ACCESS_KEY: plan.env.S3_TEST_ACCESS_KEY,
    RGW_SECRET_KEY: plan.env.S3_TEST_SECRET_KEY,
    RGW_UPLOAD_ACCESS_KEY: plan.env.S3_TEST_UPLOAD_ACCESS_KEY,
    RGW_UPLOAD_SECRET_KEY: plan.env.S3_TEST_UPLOAD_SECRET_KEY,
  })
  if (lastDir !== undefined) await writeFile(LAST_DIR, lastDir)
  if (code !== 0) {
    const message = `[rgw setup] ${plan.reason}, but scripts/start-rgw.sh failed (exit ${code}; logs in ${dir}/log):\n${output.trim()}`
    if (process.env.CI) throw new Error(message)
    console.warn(`${message}\nThe RGW suites are skipped.`)
    project.provide('s3TestEnv', null)
    return undefined
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  console.log(`[rgw setup] ${plan.reason}: started Ceph RGW at ${plan.env.S3_TEST_ENDPOINT} in ${seconds} s (RGW_DIR=${dir})`)
  project.provide('s3TestEnv', { ...plan.env, RGW_DIR: dir })

  // vitest skips the teardown when interrupted (Ctrl-C exits the process): stop the cluster then too.
  const stopOnExit = () => {
    spawnSync('bash', [join(ROOT, 'scripts', 'stop-rgw.sh'), dir], { stdio: 'ignore' })
  }
  process.once('exit', stopOnExit)

  return async function stopRgw() {
    process.off('exit', stopOnExit)
    const stopped = await runScript('stop-rgw.sh', [dir], process.env)
    if (stopped.code !== 0) console.warn(`[rgw setup] stopping RGW (${dir}) failed:\n${stopped.output.trim()}`)
  }
}
