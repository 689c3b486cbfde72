// Boots every example in examples/ against its embedded s3rver and drives it like the demo page
// does, so the examples never rot. s3rver is a demo store (it enforces no signed limits): the
// guarantees themselves are tested against Ceph RGW elsewhere.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

interface RunningExample {
  url: string
  close(): Promise<void>
}
interface ExampleModule {
  start(options: { port: number }): Promise<RunningExample>
}

const EXAMPLES = ['express', 'koa', 'fastify', 'hono'] as const

async function postJson(url: string, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Record<string, any> }
}

describe.each(EXAMPLES)('the %s example', (name) => {
  let app: RunningExample

  beforeAll(async () => {
    // Each example starts its own s3rver on a free port with a temp data dir, whatever the shell says.
    vi.stubEnv('S3_ENDPOINT', undefined)
    vi.stubEnv('DEMO_S3_PORT', '0')
    vi.stubEnv('DEMO_S3_DIR', undefined)
    const example = (await import(new URL(`../examples/${name}/server.mjs`, import.meta.url).href)) as ExampleModule
    app = await example.start({ port: 0 })
  })

  afterAll(async () => {
    await app?.close()
    vi.unstubAllEnvs()
  })

  it('serves the demo page and its script', async () => {
    const page = await fetch(`${app.url}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await page.text()
    for (const id of ['file', 'upload', 'progress', 'status', 'files']) expect(html).toContain(`id="${id}"`)

    const script = await fetch(`${app.url}/app.js`)
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    expect(await script.text()).toContain('/uploads')

    const client = await fetch(`${app.url}/client.js`)
    expect(client.status).toBe(200)
    expect(client.headers.get('content-type')).toMatch(/javascript/)
    expect(await client.text()).toMatch(/export\s*\{[^}]*uploadFile/)
  })

  it('uploads a file straight to storage, lists it, and downloads the same bytes', async () => {
    const bytes = randomBytes(64 * 1024)
    const filename = `photo ${name}.png`

    const created = await postJson(`${app.url}/uploads/create`, { filename, contentType: 'image/png', size: bytes.length })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({ strategy: 'single', method: 'PUT', token: expect.any(String), key: expect.any(String) })
    const { token, key, url, headers } = created.body

    const put = await fetch(url, { method: 'PUT', headers, body: bytes })
    expect(put.status).toBe(200)

    const completed = await postJson(`${app.url}/uploads/complete`, { token })
    expect(completed.status).toBe(200)
    expect(completed.body).toMatchObject({
      key,
      size: bytes.length,
      contentType: 'image/png',
      etag: expect.any(String),
      result: { downloadUrl: `/uploads/download?key=${encodeURIComponent(key)}` },
    })

    const listed = await fetch(`${app.url}/api/files`)
    expect(listed.status).toBe(200)
    expect(await listed.json()).toContainEqual(expect.objectContaining({ key, size: bytes.length }))

    const redirect = await fetch(`${app.url}${completed.body.result.downloadUrl}`, { redirect: 'manual' })
    expect(redirect.status).toBe(302)
    const location = redirect.headers.get('location')
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//)

    const download = await fetch(location!)
    expect(download.status).toBe(200)
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true)
  })

  it('answers a bad request with a JSON error the page can show', async () => {
    const refused = await postJson(`${app.url}/uploads/create`, { contentType: 'text/plain', size: 3 })
    expect(refused.status).toBe(400)
    expect(refused.body).toEqual({ code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) })
  })
})
