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
/** The examples with two upload routes (avatar, document) under /uploads; the others mount one at /uploads. */
const WITH_ROUTES = new Set<string>(['express', 'koa'])
const MiB = 1024 * 1024

/** create, the PUT straight to storage, complete: what the page's client does. */
async function uploadThrough(endpoint: string, filename: string, contentType: string, bytes: Uint8Array<ArrayBuffer>) {
  const created = await postJson(`${endpoint}/create`, { filename, contentType, size: bytes.length })
  expect(created.status).toBe(200)
  expect(created.body).toMatchObject({ strategy: 'single', method: 'PUT', token: expect.any(String), key: expect.any(String) })
  const { token, key, url, headers } = created.body
  const put = await fetch(url, { method: 'PUT', headers, body: bytes })
  expect(put.status).toBe(200)
  const completed = await postJson(`${endpoint}/complete`, { token })
  expect(completed.status).toBe(200)
  return { key: key as string, completed: completed.body }
}

async function download(url: string) {
  const redirect = await fetch(url, { redirect: 'manual' })
  expect(redirect.status).toBe(302)
  const location = redirect.headers.get('location')
  expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//)
  const response = await fetch(location!)
  expect(response.status).toBe(200)
  return Buffer.from(await response.arrayBuffer())
}

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
    // The page draws an area per upload route from this template (examples/_shared/public/app.js).
    expect(html).toContain('id="routes"')
    expect(html).toContain('<template id="route-template">')
    for (const id of ['title', 'limits', 'form', 'file', 'upload', 'progress', 'status', 'files']) expect(html).toContain(`data-id="${id}"`)

    const script = await fetch(`${app.url}/app.js`)
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    expect(await script.text()).toContain('/api/upload-routes')

    const client = await fetch(`${app.url}/client.js`)
    expect(client.status).toBe(200)
    expect(client.headers.get('content-type')).toMatch(/javascript/)
    expect(await client.text()).toMatch(/export\s*\{[^}]*uploadFile/)
  })

  if (!WITH_ROUTES.has(name)) {
    // One upload kind at /uploads (examples/fastify, examples/hono).
    it('uploads a file straight to storage, lists it, and downloads the same bytes', async () => {
      const bytes = randomBytes(64 * 1024)
      const { key, completed } = await uploadThrough(`${app.url}/uploads`, `photo ${name}.png`, 'image/png', bytes)
      expect(completed).toMatchObject({
        key,
        size: bytes.length,
        contentType: 'image/png',
        etag: expect.any(String),
        result: { downloadUrl: `/uploads/download?key=${encodeURIComponent(key)}` },
      })
      // No routes to describe: the page falls back to one upload area at /uploads.
      expect((await fetch(`${app.url}/api/upload-routes`)).status).toBe(404)

      const listed = await fetch(`${app.url}/api/files`)
      expect(listed.status).toBe(200)
      expect(await listed.json()).toContainEqual(expect.objectContaining({ key, size: bytes.length }))
      expect((await download(`${app.url}${completed.result.downloadUrl}`)).equals(bytes)).toBe(true)
    })
  } else {
    // Two upload routes under /uploads (examples/express, examples/koa).
    it('describes its two upload routes and their limits for the page', async () => {
      const described = await fetch(`${app.url}/api/upload-routes`)
      expect(described.status).toBe(200)
      expect(await described.json()).toEqual([
        {
          name: 'avatar',
          endpoint: '/uploads/avatar',
          allowedContentTypes: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
          maxFileSize: MiB,
          files: '/api/files?prefix=avatars%2F',
        },
        {
          name: 'document',
          endpoint: '/uploads/document',
          allowedContentTypes: ['application/pdf', 'text/plain', 'text/markdown'],
          maxFileSize: 10 * MiB,
          files: '/api/files?prefix=documents%2F',
        },
      ])
    })

    it('uploads an avatar and a document, each under its route, listed apart, and downloads the same bytes', async () => {
      const avatarBytes = randomBytes(64 * 1024)
      const avatar = await uploadThrough(`${app.url}/uploads/avatar`, `photo ${name}.png`, 'image/png', avatarBytes)
      expect(avatar.key).toMatch(/^avatars\//)
      expect(avatar.completed).toMatchObject({
        key: avatar.key,
        size: avatarBytes.length,
        contentType: 'image/png',
        etag: expect.any(String),
        result: { downloadUrl: `/uploads/avatar/download?key=${encodeURIComponent(avatar.key)}` },
      })
      const documentBytes = Buffer.from(`notes from the ${name} example\n`)
      const document = await uploadThrough(`${app.url}/uploads/document`, 'notes.txt', 'text/plain', documentBytes)
      expect(document.key).toMatch(/^documents\//)
      expect(document.completed.result).toEqual({ downloadUrl: `/uploads/document/download?key=${encodeURIComponent(document.key)}` })

      const keys = async (prefix: string) =>
        ((await (await fetch(`${app.url}/api/files?prefix=${prefix}`)).json()) as { key: string }[]).map((f) => f.key)
      expect(await keys('avatars%2F')).toContain(avatar.key)
      expect(await keys('avatars%2F')).not.toContain(document.key)
      expect(await keys('documents%2F')).toEqual([document.key])

      expect((await download(`${app.url}${avatar.completed.result.downloadUrl}`)).equals(avatarBytes)).toBe(true)
      expect((await download(`${app.url}${document.completed.result.downloadUrl}`)).equals(documentBytes)).toBe(true)
    })

    it("refuses what a route does not take with the message the page shows, and has no upload route at the mount's root", async () => {
      expect(await postJson(`${app.url}/uploads/avatar/create`, { filename: 'a.txt', contentType: 'text/plain', size: 3 })).toEqual({
        status: 415,
        body: { code: 'content_type_not_allowed', message: 'Files of type text/plain are not allowed.' },
      })
      expect(await postJson(`${app.url}/uploads/avatar/create`, { filename: 'a.png', contentType: 'image/png', size: 2 * MiB })).toEqual({
        status: 413,
        body: { code: 'file_too_large', message: 'This file is 2 MiB; the limit is 1 MiB.' },
      })
      expect(await postJson(`${app.url}/uploads/document/create`, { filename: 'a.png', contentType: 'image/png', size: 3 })).toEqual({
        status: 415,
        body: { code: 'content_type_not_allowed', message: 'Files of type image/png are not allowed.' },
      })
      expect(
        await postJson(`${app.url}/uploads/document/create`, { filename: 'a.pdf', contentType: 'application/pdf', size: 11 * MiB }),
      ).toEqual({
        status: 413,
        body: { code: 'file_too_large', message: 'This file is 11 MiB; the limit is 10 MiB.' },
      })
      const root = await fetch(`${app.url}/uploads/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'a.png', contentType: 'image/png', size: 3 }),
      })
      expect(root.status).toBe(404)
    })
  }

  it('answers a bad request with a JSON error the page can show', async () => {
    const endpoint = WITH_ROUTES.has(name) ? `${app.url}/uploads/avatar` : `${app.url}/uploads`
    const refused = await postJson(`${endpoint}/create`, { contentType: 'text/plain', size: 3 })
    expect(refused.status).toBe(400)
    expect(refused.body).toEqual({ code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) })
  })
})
