import { FetchHttpHandler } from '@smithy/fetch-http-handler'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createFetchHandler } from '../../src/adapters/fetch'
import { defaultRequestHandler, nodeHttpUsable } from '../../src/core/http-handler'
import { createClients } from '../../src/core/storage'
import { silentS3 } from './_silent-s3'

/**
 * src/core/http-handler.ts, on Node: which HTTP handler the S3 clients the package builds get, per
 * runtime, and that both keep the `timeout` against a store that never answers. The runtime suites
 * (bun/deno/workerd.test.ts) prove the same on the runtimes themselves.
 */

// What each runtime shows of itself (measured: Bun 1.4.5, Deno 2.9.6, workerd 1.20261117.1 with
// compatibility date 2026-11-01, which reports Node 22.23.4 under nodejs_compat).
const RUNTIMES = [
  { name: 'Node 20', globals: { process: { versions: { node: '20.20.2' } } }, usable: true },
  { name: 'Node 22', globals: { navigator: { userAgent: 'Node.js/22' }, process: { versions: { node: '22.12.0' } } }, usable: true },
  { name: 'Bun', globals: { navigator: { userAgent: 'Bun/1.4.5' }, process: { versions: { node: '26.3.0' } } }, usable: true },
  { name: 'Deno', globals: { navigator: { userAgent: 'Deno/2.9.6' }, process: { versions: { node: '26.3.0' } } }, usable: true },
  {
    name: 'workerd (nodejs_compat)',
    globals: { navigator: { userAgent: 'Cloudflare-Workers' }, process: { versions: { node: '22.23.4' } } },
    usable: false,
  },
  { name: 'a runtime without process (an edge runtime, a browser)', globals: { navigator: { userAgent: 'Mozilla/5.0' } }, usable: false },
]

describe('nodeHttpUsable', () => {
  it.each(RUNTIMES)('is $usable on $name', ({ globals, usable }) => {
    expect(nodeHttpUsable(globals)).toBe(usable)
  })

  it('is true here, on Node', () => {
    expect(nodeHttpUsable()).toBe(true)
  })
})

const credentials = { accessKeyId: 'AKIAHANDLER', secretAccessKey: 'x' }

describe('the handler of a client the package builds', () => {
  afterEach(() => vi.unstubAllGlobals())

  it("is the SDK's own Node handler on Node, built from options (no import of node:https in the core)", () => {
    expect(defaultRequestHandler(1234)).toEqual({ connectionTimeout: 1234, requestTimeout: 1234, throwOnRequestTimeout: true })
    const { client } = createClients({ region: 'us-east-1', credentials }, undefined, 1234)
    expect(client.config.requestHandler.constructor.name).toBe('NodeHttpHandler')
  })

  it('is FetchHttpHandler with the request timeout on workerd', () => {
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' })
    const handler = defaultRequestHandler(1234)
    expect(handler).toBeInstanceOf(FetchHttpHandler)
    expect((handler as FetchHttpHandler).httpHandlerConfigs()).toEqual({ requestTimeout: 1234 })
    const { client } = createClients({ region: 'us-east-1', credentials }, undefined, 1234)
    expect(client.config.requestHandler).toBeInstanceOf(FetchHttpHandler)
  })

  it("is the app's own when its S3 config has one", () => {
    const own = new FetchHttpHandler({ requestTimeout: 99 })
    const { client } = createClients({ region: 'us-east-1', credentials, requestHandler: own }, undefined, 1234)
    expect(client.config.requestHandler).toBe(own)
  })
})

describe('the timeout, against a store that accepts connections and never answers', () => {
  let silent: Awaited<ReturnType<typeof silentS3>>
  beforeAll(async () => {
    silent = await silentS3()
  })
  afterAll(() => silent.close())
  afterEach(() => vi.unstubAllGlobals())

  async function completeTimed() {
    const handler = createFetchHandler({
      bucket: 'silent',
      region: 'us-east-1',
      s3: { endpoint: silent.endpoint, forcePathStyle: true, credentials },
      secret: 'silent-secret-0123456789abcdef',
      authorize: () => true,
      timeout: 1500,
    })
    const post = (path: string, body: unknown) =>
      handler(
        new Request(`http://app${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      )
    const created = await post('/create', { filename: 'a.txt', contentType: 'text/plain', size: 3 })
    expect(created.status).toBe(200)
    const { token } = (await created.json()) as { token: string }
    const started = Date.now()
    const done = await post('/complete', { token })
    return { status: done.status, code: ((await done.json()) as { code: string }).code, ms: Date.now() - started }
  }

  it("ends at the timeout with Node's handler: 504 storage_timeout", async () => {
    const { status, code, ms } = await completeTimed()
    expect({ status, code }).toEqual({ status: 504, code: 'storage_timeout' })
    expect(ms).toBeGreaterThanOrEqual(1400)
    expect(ms).toBeLessThan(5000)
  })

  it('ends at the timeout with FetchHttpHandler (workerd): 504 storage_timeout', async () => {
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' })
    const { status, code, ms } = await completeTimed()
    expect({ status, code }).toEqual({ status: 504, code: 'storage_timeout' })
    expect(ms).toBeGreaterThanOrEqual(1400)
    expect(ms).toBeLessThan(5000)
  })
})
