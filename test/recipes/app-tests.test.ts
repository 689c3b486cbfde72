/**
 * Recipe: your app's own tests, without S3.
 *
 * Copy this file next to your app's tests. Before the tests it starts s3rver, an S3 store that
 * runs inside the test process (a free port, its files in a temp dir: no AWS account, no Docker,
 * no SDK mock), points your app at it, and drives an upload the way a browser does: ask your app
 * for a URL, PUT the bytes to that URL with the headers the app returned, complete, download.
 *
 *   npm install -D vitest s3rver @types/s3rver
 *
 * What this shows: your routes, your `authorize`, `keyFor` and `onComplete`, and that the URLs
 * your app hands out work end to end. What it cannot show: s3rver checks no SigV4 signature,
 * signed length or Content-Type, and ignores `If-None-Match` on a PUT, so an upload that AWS
 * would refuse can succeed here. The package's own guarantees are tested against a real S3
 * server (Ceph RGW) in its repository.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import express from 'express'
import S3rver from 's3rver'
import { presignMiddleware } from 's3-presign-middleware/express'
import { uploadFile } from 's3-presign-middleware/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// ---------------------------------------------------------------------------------------------
// The app under test. In your project this is your own module (`import { createApp } from
// '../src/app'`): what matters is that it takes its S3 settings from its caller (or from the
// environment) instead of building them inside, so a test can point it at another store.
// ---------------------------------------------------------------------------------------------

interface User {
  id: string
}
interface StoredFile {
  key: string
  size: number
  contentType: string
  owner: string
}

/** Stands in for your session or token check. */
const sessions = new Map<string, User>([['token-of-alice', { id: 'alice' }]])
function currentUser(req: express.Request): User | undefined {
  return sessions.get(req.get('authorization')?.replace(/^Bearer /, '') ?? '')
}

function createApp(config: { bucket: string; s3: S3ClientConfig; secret: string }) {
  const files: StoredFile[] = [] // stands in for your database
  const app = express()
  app.use(
    '/uploads',
    presignMiddleware({
      bucket: config.bucket,
      s3: config.s3,
      secret: config.secret,
      authorize: ({ request }) => currentUser(request) ?? false,
      keyFor: ({ identity, file }) => `users/${identity.id}/${file.filename}`, // authorize never returns true: identity is a User
      allowedContentTypes: ['text/plain', 'image/png'],
      maxFileSize: 50 * 1024 * 1024,
      multipart: { threshold: 8 * 1024 * 1024, partSize: 5 * 1024 * 1024 },
      onComplete: ({ key, size, contentType, identity }) => {
        files.push({ key, size, contentType, owner: identity.id })
        return { id: files.length }
      },
    }),
  )
  app.get('/files', (_req, res) => {
    res.json(files)
  })
  return app
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

const BUCKET = 'uploads'

describe('uploads in my app (against an embedded S3 store)', () => {
  let store: S3rver
  let storeDir: string
  let server: Server
  let baseUrl: string

  beforeAll(async () => {
    storeDir = await mkdtemp(join(tmpdir(), 's3rver-'))
    store = new S3rver({
      address: '127.0.0.1',
      port: 0, // any free port: test files can run in parallel
      directory: storeDir,
      silent: true,
      configureBuckets: [{ name: BUCKET }],
    })
    const { port } = await store.run()

    const app = createApp({
      bucket: BUCKET,
      secret: 'a-test-secret-of-32-characters!!',
      s3: {
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        forcePathStyle: true, // bucket in the path: http://127.0.0.1:<port>/uploads/<key>
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, // s3rver's built-in account
      },
    })
    server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
    await store?.close()
    await rm(storeDir, { recursive: true, force: true })
  })

  /** A JSON POST to the app, as the signed-in user. */
  async function post(path: string, body: unknown, token = 'token-of-alice') {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as any }
  }

  it('uploads a file straight to storage, records it, and serves it back', async () => {
    const text = 'hello from the test\n'
    const bytes = new TextEncoder().encode(text)

    // 1. The browser asks the app for an upload URL.
    const created = await post('/uploads/create', { filename: 'hello.txt', contentType: 'text/plain', size: bytes.length })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({ strategy: 'single', method: 'PUT', key: 'users/alice/hello.txt' })

    // 2. It PUTs the bytes to that URL with exactly the headers the app returned (they are signed).
    const put = await fetch(created.body.url, { method: 'PUT', headers: created.body.headers, body: bytes })
    expect(put.status).toBe(200)

    // 3. It tells the app the upload is done: the app checks the object and runs onComplete.
    const completed = await post('/uploads/complete', { token: created.body.token })
    expect(completed.status).toBe(200)
    expect(completed.body).toMatchObject({ key: 'users/alice/hello.txt', size: bytes.length, contentType: 'text/plain', result: { id: 1 } })

    // What onComplete recorded.
    const files = await (await fetch(`${baseUrl}/files`)).json()
    expect(files).toEqual([{ key: 'users/alice/hello.txt', size: bytes.length, contentType: 'text/plain', owner: 'alice' }])

    // 4. Download: the app answers with a URL to the object.
    const download = await post('/uploads/download', { key: 'users/alice/hello.txt' })
    expect(download.status).toBe(200)
    const got = await fetch(download.body.url)
    expect(got.status).toBe(200)
    expect(await got.text()).toBe(text)
  })

  it('uploads a large file in parts with the package client, from Node', async () => {
    // 9 MiB is over the app's 8 MiB multipart threshold: two parts of 5 and 4 MiB.
    const bytes = new Uint8Array(9 * 1024 * 1024).map((_, i) => i % 251)
    const done = await uploadFile(new Blob([bytes], { type: 'image/png' }), {
      endpoint: `${baseUrl}/uploads`,
      name: 'big.png',
      headers: { authorization: 'Bearer token-of-alice' },
    })
    expect(done).toMatchObject({ key: 'users/alice/big.png', size: bytes.length, contentType: 'image/png' })

    const download = await post('/uploads/download', { key: 'users/alice/big.png' })
    const got = new Uint8Array(await (await fetch(download.body.url)).arrayBuffer())
    expect(got.length).toBe(bytes.length)
    expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true)
  })

  it('refuses a caller who is not signed in, and a type the app does not accept', async () => {
    const anonymous = await post('/uploads/create', { filename: 'a.txt', contentType: 'text/plain', size: 1 }, 'no-such-token')
    expect(anonymous.status).toBe(403)
    expect(anonymous.body.code).toBe('forbidden')

    const wrongType = await post('/uploads/create', { filename: 'a.html', contentType: 'text/html', size: 1 })
    expect(wrongType.status).toBe(415)
  })
})
