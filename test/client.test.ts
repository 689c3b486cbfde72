import { createServer } from 'node:http'
import { gzipSync } from 'node:zlib'
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import { build } from 'esbuild'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { UploadError, uploadFile } from '../src/client'
import type { PresignOptions } from '../src'
import { RGW_ENDPOINT, createTestBucket, describeRgw, rgwClientConfig } from './helpers/rgw'
import { listen, targets } from './helpers/targets'

/**
 * `s3-presign-middleware/client` from Node 20 (fetch; browsers use XHR for progress) against the
 * real middleware and Ceph RGW. Faults are injected by wrapping the global `fetch` (which carries
 * the PUTs to S3 in Node; the `fetch` option only carries the calls to the server): a dropped
 * connection, an expired part URL, an unreadable ETag, a page reload, a server restarted mid-upload,
 * a store or server that never answers, storage 5xx.
 */

const MiB = 1024 * 1024
const express5 = targets.find((t) => t.name === 'Express 5')!

function bytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(size)
  let x = seed
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    b[i] = x >>> 16
  }
  return b
}

const realFetch = globalThis.fetch
afterEach(() => {
  vi.unstubAllGlobals()
})

/** An origin nothing listens on (a port just released): connections to it are refused at once. */
const CLOSED = await (async () => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
})()

/**
 * Replaces the global `fetch` for the rest of the test (the client's calls to the server and its
 * PUTs to S3 both go through it in Node): counts part PUTs and sign calls, lets `intercept` answer
 * or fail a request, and sends the rest on.
 */
function instrumented(
  intercept?: (url: URL, init: RequestInit | undefined, n: { puts: number; signs: number }) => Promise<Response | undefined> | undefined,
) {
  const n = { puts: 0, signs: 0 }
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(String(input))
    if (init?.method === 'PUT') n.puts++
    if (url.pathname.endsWith('/sign-parts')) n.signs++
    return (await intercept?.(url, init, n)) ?? realFetch(input, init)
  }
  vi.stubGlobal('fetch', wrapped)
  return { fetch: wrapped, n }
}

describe('the client without a server', () => {
  it('needs a name for a Blob that is not a File', async () => {
    await expect(uploadFile(new Blob(['x']), { endpoint: 'http://127.0.0.1:1/uploads' })).rejects.toThrow(/needs a file name/)
  })

  it('fails with network_error after one retry, naming the causes, when the server gives no answer', async () => {
    const calls: string[] = []
    const error = await uploadFile(new Blob(['x']), {
      endpoint: `${CLOSED}/uploads`,
      name: 'x.txt',
      fetch: (input, init) => {
        calls.push(String(input))
        return realFetch(input, init)
      },
    }).catch((e) => e)
    expect(calls).toEqual([`${CLOSED}/uploads/create`, `${CLOSED}/uploads/create`]) // not the 4 attempts `retries: 3` allows for 5xx
    expect(error).toBeInstanceOf(UploadError)
    expect(error).toMatchObject({ code: 'network_error', status: 0 })
    expect(error.message).toBe(
      `The server at ${CLOSED}/uploads/create gave no answer (ECONNREFUSED): it is down or unreachable, or the browser blocked the request (the page's Content-Security-Policy connect-src, or CORS on an endpoint of another origin).`,
    )
  })

  it('is small, browser-safe and dependency-free (budget: 4 KB min+gzip)', async () => {
    const out = await build({
      entryPoints: ['src/client/index.ts'],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
    })
    const code = out.outputFiles[0]!.text
    const gzipped = gzipSync(code).length
    console.log(`[client] ${code.length} bytes minified, ${gzipped} bytes min+gzip`)
    expect(gzipped).toBeLessThan(4096)
    expect(code).not.toMatch(/from\s*["']node:|require\(["']/)
  })
})

describeRgw('the client against the middleware and RGW', () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>
  let options: PresignOptions<any, any, any>
  let server: Awaited<ReturnType<typeof listen>>
  let endpoint = ''

  beforeAll(async () => {
    t = await createTestBucket('client')
    options = {
      bucket: t.bucket,
      s3: rgwClientConfig(),
      secret: 'client-secret-0123456789',
      authorize: () => ({ id: 'client-user' }),
      onComplete: ({ key }) => ({ stored: key }),
      multipart: { threshold: 5 * MiB },
      maxFileSize: 64 * MiB,
    }
    server = await listen(express5.build(options))
    endpoint = `${server.url}/uploads`
  })
  afterAll(async () => {
    await server?.close()
    await t?.cleanup()
  })

  const read = async (key: string) =>
    new Uint8Array(await (await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))).Body!.transformToByteArray())
  const openUploads = async () => (await t.client.send(new ListMultipartUploadsCommand({ Bucket: t.bucket }))).Uploads ?? []

  it('uploads a small Blob in one PUT and resolves to what complete answered', async () => {
    const body = bytes(1000)
    const done = await uploadFile(new Blob([body], { type: 'text/plain' }), { endpoint, name: 'small.txt' })
    expect(done).toMatchObject({ size: 1000, contentType: 'text/plain', result: { stored: done.key } })
    expect(Buffer.from(await read(done.key)).equals(body)).toBe(true)
  })

  it('uploads a 12 MiB file in parallel parts with progress rising to the total', async () => {
    const body = bytes(12 * MiB + 7, 2)
    const seen: number[] = []
    const done = await uploadFile(new File([body], 'big.bin'), {
      endpoint,
      concurrency: 2,
      onProgress: ({ loaded, total }) => {
        expect(total).toBe(body.length)
        seen.push(loaded)
      },
    })
    expect(done.size).toBe(body.length)
    expect(Buffer.from(await read(done.key)).equals(body)).toBe(true)
    expect(seen.at(-1)).toBe(body.length)
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
  })

  it("turns the server's JSON refusal into an UploadError with its code, status and message", async () => {
    const error = await uploadFile(new Blob([bytes(10)]), { endpoint, name: 'x.exe', headers: {}, metadata: { bad: 'é' } }).catch((e) => e)
    expect(error).toBeInstanceOf(UploadError)
    expect(error).toMatchObject({ code: 'invalid_request', status: 400, message: expect.stringMatching(/printable ASCII/) })
  })

  it('aborts: in-flight requests stop, the multipart upload is aborted on S3, and it rejects with AbortError', async () => {
    const controller = new AbortController()
    instrumented((_url, init, n) => {
      if (init?.method === 'PUT' && n.puts === 2) controller.abort()
      return undefined
    })
    const error = await uploadFile(new File([bytes(16 * MiB)], 'abort.bin'), {
      endpoint,
      concurrency: 1,
      signal: controller.signal,
    }).catch((e) => e)
    expect(error.name).toBe('AbortError')
    expect(await openUploads()).toHaveLength(0)
  })

  it('resumes after a reload, uploading only the parts S3 does not have', async () => {
    const body = bytes(16 * MiB + 3, 4) // 4 parts
    const storage = new Map<string, string>()
    const resume = {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
    }
    // The first page "reloads" after two parts: every later PUT fails as the page goes away.
    instrumented((_url, init, n) => (init?.method === 'PUT' && n.puts > 2 ? Promise.reject(new TypeError('fetch failed')) : undefined))
    const file = new File([body], 'resume.bin', { lastModified: 1_700_000_000_000 })
    await expect(uploadFile(file, { endpoint, concurrency: 1, retries: 0, resume })).rejects.toThrow()
    expect(storage.size).toBe(1)
    const second = instrumented()
    const done = await uploadFile(file, { endpoint, concurrency: 1, resume })
    expect(second.n.puts).toBe(2)
    expect(Buffer.from(await read(done.key)).equals(body)).toBe(true)
    expect(storage.size).toBe(0)
  })

  it('retries a part whose connection dropped', async () => {
    let dropped = false
    const { n } = instrumented((_url, init) => {
      if (init?.method === 'PUT' && !dropped) {
        dropped = true
        return Promise.reject(new TypeError('fetch failed: other side closed'))
      }
      return undefined
    })
    const body = bytes(6 * MiB, 5)
    const done = await uploadFile(new File([body], 'drop.bin'), { endpoint })
    expect(n.puts).toBe(3) // two parts, one of them twice
    expect(Buffer.from(await read(done.key)).equals(body)).toBe(true)
  })

  it('signs a part again when S3 says its URL expired', async () => {
    let expired = false
    const { n } = instrumented((_url, init) => {
      if (init?.method === 'PUT' && !expired) {
        expired = true
        return Promise.resolve(
          new Response('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', { status: 403 }),
        )
      }
      return undefined
    })
    const done = await uploadFile(new File([bytes(6 * MiB, 6)], 'expired.bin'), { endpoint, concurrency: 1 })
    expect(done.size).toBe(6 * MiB)
    expect(n.signs).toBeGreaterThanOrEqual(2)
  })

  it('fails clearly, instead of hanging, when the ETag header cannot be read', async () => {
    instrumented(async (url, init) => {
      if (init?.method !== 'PUT') return undefined
      const res = await realFetch(url, init)
      return new Response(await res.text(), { status: res.status }) // what a browser sees without ExposeHeaders: ETag
    })
    const error = await uploadFile(new File([bytes(6 * MiB)], 'noetag.bin'), { endpoint, retries: 0 }).catch((e) => e)
    expect(error).toMatchObject({ code: 'etag_unreadable', message: expect.stringMatching(/CORS/) })
  })

  it('finishes an upload when the server is restarted mid-upload (stateless: another instance, same secret)', async () => {
    const a = await listen(express5.build(options))
    const b = await listen(express5.build(options))
    let restarted = false
    instrumented(async (url, init, n) => {
      if (init?.method === 'PUT' && n.puts === 1 && !restarted) {
        restarted = true
        await a.close() // instance A goes away after the first part
      }
      if (restarted && url.origin === new URL(a.url).origin) return realFetch(url.href.replace(a.url, b.url), init)
      return undefined
    })
    const body = bytes(11 * MiB, 8)
    const done = await uploadFile(new File([body], 'restart.bin'), { endpoint: `${a.url}/uploads`, concurrency: 1 })
    expect(Buffer.from(await read(done.key)).equals(body)).toBe(true)
    await b.close()
  })

  it('uses the fetch option for the calls to the server only: S3 PUTs go out by the global fetch, without cookies', async () => {
    const puts: (RequestCredentials | undefined)[] = []
    instrumented((_url, init) => {
      if (init?.method === 'PUT') puts.push(init.credentials)
      return undefined
    })
    const seen: { route: string; credentials?: RequestCredentials }[] = []
    const body = bytes(6 * MiB, 9)
    const done = await uploadFile(new File([body], 'own-fetch.bin'), {
      endpoint,
      credentials: 'include',
      fetch: (input, init) => {
        seen.push({ route: new URL(String(input)).pathname, credentials: init?.credentials })
        return realFetch(input, init)
      },
    })
    expect(Buffer.from(await read(done.key)).equals(body)).toBe(true)
    expect(seen.map((c) => c.route)).toEqual(['/uploads/create', '/uploads/sign-parts', '/uploads/complete'])
    expect(seen.every((c) => c.credentials === 'include')).toBe(true)
    expect(puts).toEqual(['omit', 'omit'])
  })

  it('fails with storage_unreachable after one retry when storage never answered, naming CORS, CSP and the doctor', async () => {
    // The signed URL names RGW; its PUTs go to a closed port instead, as to a store that is down.
    const { n } = instrumented((url, init) =>
      init?.method === 'PUT' ? realFetch(`${CLOSED}${url.pathname}${url.search}`, init) : undefined,
    )
    const started = Date.now()
    const error = await uploadFile(new Blob([bytes(1000)]), { endpoint, name: 'nowhere.bin' }).catch((e) => e)
    expect(n.puts).toBe(2) // a refused connection the first time may be a drop; the second time it is not
    expect(Date.now() - started).toBeLessThan(2000)
    expect(error).toMatchObject({ code: 'storage_unreachable', status: 0 })
    expect(error.message).toBe(
      `Storage at ${RGW_ENDPOINT} gave no answer to the upload (ECONNREFUSED). Check the bucket's CORS for this page's origin (npx s3-presign-middleware doctor --bucket <bucket> --origin <app origin> --fix), the page's Content-Security-Policy (connect-src must include ${RGW_ENDPOINT}), and that the store is reachable.`,
    )
  })

  it('keeps every retry for a connection that drops after storage answered in this upload', async () => {
    // Part 1 is stored; part 2's connection drops three times, then goes through.
    const { n } = instrumented((url, init) =>
      init?.method === 'PUT' && url.searchParams.get('partNumber') === '2' && n.puts <= 4
        ? Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }))
        : undefined,
    )
    const body = bytes(6 * MiB, 10)
    const done = await uploadFile(new File([body], 'drops.bin'), { endpoint, concurrency: 1 })
    expect(n.puts).toBe(5)
    expect(Buffer.from(await read(done.key)).equals(body)).toBe(true)
  })

  it('says the connection was lost when storage stops answering mid-upload', async () => {
    const { n } = instrumented((url, init) =>
      init?.method === 'PUT' && url.searchParams.get('partNumber') === '2'
        ? Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }))
        : undefined,
    )
    const error = await uploadFile(new File([bytes(6 * MiB, 11)], 'lost.bin'), { endpoint, concurrency: 1, retries: 2 }).catch((e) => e)
    expect(n.puts).toBe(4) // part 1, then part 2 three times (retries: 2)
    expect(error).toMatchObject({
      code: 'storage_unreachable',
      status: 0,
      message: `The connection to ${RGW_ENDPOINT} was lost (ECONNRESET).`,
    })
  })

  it("keeps today's retries for storage 5xx: four attempts, then storage_refused with S3's code", async () => {
    const { n } = instrumented((_url, init) =>
      init?.method === 'PUT' ? Promise.resolve(new Response('<Error><Code>SlowDown</Code></Error>', { status: 503 })) : undefined,
    )
    const error = await uploadFile(new Blob([bytes(1000)]), { endpoint, name: 'busy.bin' }).catch((e) => e)
    expect(n.puts).toBe(4)
    expect(error).toMatchObject({ code: 'storage_refused', status: 503, message: 'Storage refused the upload (HTTP 503 SlowDown).' })
  })

  it('keeps the saved upload when the server cannot be reached to resume it, and resumes later', async () => {
    const body = bytes(11 * MiB, 12) // 3 parts
    const storage = new Map<string, string>()
    const resume = {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
    }
    const file = new File([body], 'offline.bin', { lastModified: 1_700_000_000_001 })
    instrumented((_url, init, n) => (init?.method === 'PUT' && n.puts > 1 ? Promise.reject(new TypeError('fetch failed')) : undefined))
    await expect(uploadFile(file, { endpoint, concurrency: 1, retries: 0, resume })).rejects.toMatchObject({ code: 'storage_unreachable' })
    expect(storage.size).toBe(1)
    // Offline: the server cannot be asked which parts it has.
    instrumented((url) => (url.pathname.endsWith('/list-parts') ? Promise.reject(new TypeError('fetch failed')) : undefined))
    await expect(uploadFile(file, { endpoint, concurrency: 1, retries: 0, resume })).rejects.toMatchObject({ code: 'network_error' })
    expect(storage.size).toBe(1)
    const back = instrumented()
    const done = await uploadFile(file, { endpoint, concurrency: 1, resume })
    expect(back.n.puts).toBe(2)
    expect(Buffer.from(await read(done.key)).equals(body)).toBe(true)
  })
})
