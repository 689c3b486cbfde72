import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { describeRgw, RGW_ENDPOINT } from '../helpers/rgw'
import { answersS3, choosePorts, freePort, missingCephPrograms, planRgw, portIsFree, type S3TestEnv } from './rgw'

/** The vitest globalSetup that starts Ceph RGW for `npm test` (test/setup/rgw.ts). */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Something that is not S3 listening on 127.0.0.1 (a dev server on the port). */
async function notS3(): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createHttpServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('not here'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** Holds 127.0.0.1:port (any port when 0) until closed. */
async function hold(port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createNetServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, host: '127.0.0.1', exclusive: true }, resolve)
  })
  return { port: (server.address() as { port: number }).port, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

describe('the RGW global setup decides', () => {
  it('to do nothing when S3_TEST_ENDPOINT is set', async () => {
    const plan = await planRgw({ S3_TEST_ENDPOINT: 'http://127.0.0.1:1', PATH: process.env.PATH })
    expect(plan).toMatchObject({ action: 'none', env: null })
    expect(plan.reason).toMatch(/S3_TEST_ENDPOINT is set/)
  })

  it('to do nothing when S3_TEST_AUTOSTART=0', async () => {
    const plan = await planRgw({ S3_TEST_AUTOSTART: '0', PATH: process.env.PATH })
    expect(plan).toMatchObject({ action: 'none', env: null, reason: 'S3_TEST_AUTOSTART=0' })
  })

  it('to do nothing when Ceph is not installed, naming the missing programs', async () => {
    const emptyBin = mkdtempSync(join(tmpdir(), 'no-ceph-'))
    try {
      const plan = await planRgw({ PATH: emptyBin, RGW_PORT: String(await freePort()) })
      expect(plan).toMatchObject({ action: 'none', env: null })
      expect(plan.reason).toMatch(/^Ceph is not installed \(not on PATH: ceph-mon, ceph-osd, radosgw, radosgw-admin, /)
    } finally {
      rmSync(emptyBin, { recursive: true, force: true })
    }
  })

  it('to keep RGW_PORT and the monitor port when they are free', async () => {
    const port = await freePort()
    let mon = await freePort()
    // the monitor needs two adjacent ports: look for a free pair away from `port`
    for (let i = 0; i < 20 && !((await portIsFree(mon + 1)) && ![mon, mon + 1].includes(port)); i++) mon = await freePort()
    expect(await choosePorts(port, mon)).toEqual({ port, monPort: mon })
  })

  it('to move RGW and the monitor to free ports when theirs are held', async () => {
    const s3Port = await hold()
    const monPort = await hold()
    try {
      const chosen = await choosePorts(s3Port.port, monPort.port)
      expect(chosen.port).not.toBe(s3Port.port)
      expect(chosen.monPort).not.toBe(monPort.port)
      expect([chosen.monPort, chosen.monPort + 1]).not.toContain(chosen.port)
      for (const p of [chosen.port, chosen.monPort, chosen.monPort + 1]) expect(await portIsFree(p)).toBe(true)
    } finally {
      await s3Port.close()
      await monPort.close()
    }
  })
})

describeRgw('the RGW global setup, with an S3 server answering', () => {
  it('uses the server on RGW_PORT instead of starting another', async () => {
    const port = new URL(RGW_ENDPOINT).port
    const plan = await planRgw({ RGW_PORT: port, PATH: process.env.PATH })
    expect(plan.action).toBe('none')
    expect(plan.reason).toBe(`an S3 server answers at http://127.0.0.1:${port}`)
    expect(plan.env?.S3_TEST_ENDPOINT).toBe(`http://127.0.0.1:${port}`)
  })
})

const missing = missingCephPrograms()
const describeCeph = missing.length === 0 || process.env.CI ? describe : describe.skip
if (missing.length > 0 && !process.env.CI) {
  console.warn(`[rgw setup test] SKIPPED: Ceph is not installed (not on PATH: ${missing.join(', ')}).`)
}

describeCeph('npm test on a machine with Ceph installed', () => {
  const reportDir = mkdtempSync(join(tmpdir(), 'rgw-probe-'))
  afterAll(() => rmSync(reportDir, { recursive: true, force: true }))

  it('starts RGW for the test files (on a free port when 7480 is not S3) and stops it afterwards', async () => {
    expect(missing, 'Ceph programs missing in CI').toEqual([])
    const squatter = await notS3()
    const report = join(reportDir, 'report.json')
    const env: Record<string, string | undefined> = { ...process.env, RGW_PORT: String(squatter.port), RGW_PROBE_REPORT: report }
    // A fresh shell: nothing configured, whatever this run was given.
    for (const name of Object.keys(env)) {
      if (/^(VITEST|S3_TEST_ENDPOINT$|S3_TEST_AUTOSTART$|RGW_DIR$|RGW_MON_PORT$)/.test(name)) delete env[name]
    }
    let run: { code: number | null; output: string }
    try {
      run = await new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/setup/fixture/vitest.config.ts'],
          { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
        )
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
    } finally {
      await squatter.close()
    }
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain(`127.0.0.1:${squatter.port} is held by something that is not S3`)

    const seen = JSON.parse(readFileSync(report, 'utf8')) as { provided: S3TestEnv; endpoint: string; owners: string[] }
    expect(seen.endpoint).toBe(seen.provided.S3_TEST_ENDPOINT)
    expect(seen.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(seen.endpoint).not.toBe(`http://127.0.0.1:${squatter.port}`)
    expect(seen.owners).toEqual(['tester', 'uploader'])
    // Stopped and removed once the run ended.
    expect(await answersS3(seen.endpoint)).toBe(false)
    expect(seen.provided.RGW_DIR && existsSync(seen.provided.RGW_DIR)).toBe(false)
  }, 180_000)
})
