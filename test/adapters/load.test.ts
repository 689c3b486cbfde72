import { type ChildProcess, spawn } from 'node:child_process'
import autocannon from 'autocannon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * Load through Express (SPEC §5.6, issue "Reliability"): LOAD_REQUESTS `create` calls (default
 * 20,000) at 100 connections from autocannon in this process against the app in a child process,
 * on loopback. Zero errors and non-2xx; the heap after a full GC does not grow with the request
 * count (no per-request retention). Latency is reported, not asserted: timings belong in bench/.
 */

const REQUESTS = Number(process.env.LOAD_REQUESTS ?? 20_000)
let child: ChildProcess
let base = ''

beforeAll(async () => {
  child = spawn(process.execPath, ['--expose-gc', 'test/fixtures/load-server.mjs'], { stdio: ['ignore', 'pipe', 'inherit'] })
  base = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`load server exited with ${code}`)))
    child.stdout!.on('data', (chunk: Buffer) => {
      const port = /LISTENING (\d+)/.exec(chunk.toString())?.[1]
      if (port) resolve(`http://127.0.0.1:${port}`)
    })
  })
})
afterAll(() => {
  child?.kill()
})

async function heap(): Promise<number> {
  return ((await (await fetch(`${base}/__heap`)).json()) as { heapUsed: number }).heapUsed
}

function load(amount: number) {
  return autocannon({
    url: `${base}/uploads/create`,
    method: 'POST',
    connections: 100,
    amount,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ filename: 'photo.png', contentType: 'image/png', size: 123_456 }),
  })
}

describe('load through Express', () => {
  it(`serves ${REQUESTS} create requests at 100 connections with no error, and the heap stays flat`, async () => {
    await load(2_000) // warm up: JIT, SDK lazy init
    const before = await heap()
    const result = await load(REQUESTS)
    const after = await heap()
    console.log(
      `[load] ${result.requests.total} requests, ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
        `errors ${result.errors}, non-2xx ${result.non2xx}, heap ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB`,
    )
    expect(result.requests.total).toBeGreaterThanOrEqual(REQUESTS)
    expect(result.errors).toBe(0)
    expect(result.timeouts).toBe(0)
    expect(result.non2xx).toBe(0)
    // Retaining even 200 bytes per request would add 4 MB over 20,000 requests.
    expect(after - before).toBeLessThan(4 * 2 ** 20)
  }, 180_000)
})
