import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RGW_ENDPOINT, RGW_REGION, type TestBucket, createTestBucket, describeRgw, putRaw, rgwClientConfig } from '../helpers/rgw'
import { assertFreshBuild, repoRoot } from '../types/_fixture'

/**
 * Issue 12 item 2: NestJS 11. The example (examples/nest) is compiled as a Nest CLI app compiles
 * (CommonJS, `"moduleResolution": "node"`, decorators, strict) in a temp app that depends on this
 * package the way users do (node_modules/s3-presign-middleware), booted with `node dist/main.js`
 * against RGW, and driven over HTTP: the identity comes from a Nest guard (req.user), which runs
 * before the controller that hands every route under /uploads to the Express middleware.
 */

const EXAMPLE = join(repoRoot, 'examples', 'nest')
const SECRET = `nest-example-secret-${randomBytes(8).toString('hex')}`
const ALICE = { authorization: 'Bearer alice-token' }
const BOB = { authorization: 'Bearer bob-token' }

interface Compiled {
  app: string
  /** tsc's diagnostics, formatted */
  errors: string[]
  /** where node10 resolution found the types of `s3-presign-middleware/express` */
  expressTypes: string | undefined
}

/**
 * The example's sources, tsconfig and package.json copied to `<tmp>/app`, `<tmp>/node_modules`
 * linking this repo's dependencies; then examples/nest/build.mjs links the package into
 * `<tmp>/app/node_modules` (as `npm install` of a `file:` dependency would) and compiles it to
 * `<tmp>/app/dist`.
 */
async function compileExample(dir: string): Promise<Compiled> {
  const app = join(dir, 'app')
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
  for (const name of ['src', 'tsconfig.json', 'package.json']) cpSync(join(EXAMPLE, name), join(app, name), { recursive: true })
  // @ts-expect-error: a plain JavaScript build script, imported as `npm run example:nest` runs it
  const build = (await import('../../examples/nest/build.mjs')) as {
    compileExample(app: string): { errors: string[]; options: ts.CompilerOptions }
  }
  const { errors, options } = build.compileExample(app)
  const expressTypes = ts.resolveModuleName('s3-presign-middleware/express', join(app, 'src', 'main.ts'), options, ts.sys).resolvedModule
    ?.resolvedFileName
  return { app, errors, expressTypes }
}

/** `node dist/main.js` with the store in S3_* variables and PORT=0; resolves to the URL it prints. */
function boot(app: string, bucket: string): Promise<{ child: ChildProcess; url: string }> {
  const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
  const child = spawn(process.execPath, [join(app, 'dist', 'main.js')], {
    cwd: app,
    env: {
      ...process.env,
      PORT: '0',
      S3_ENDPOINT: RGW_ENDPOINT,
      S3_BUCKET: bucket,
      S3_REGION: RGW_REGION,
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      PRESIGN_SECRET: SECRET,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Nest example printed no URL within 30 s:\n${output}`)), 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /running at (http:\/\/\S+)/.exec(output)?.[1]
      if (url) {
        clearTimeout(timer)
        resolve({ child, url })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the Nest example exited (${code}) before printing its URL:\n${output}`))
    })
  })
}

async function call(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; body?: string } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers = { ...init.headers, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) }
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.json === undefined && init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
    redirect: 'manual',
  })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, headers: res.headers, body }
}

/** create → PUT to the presigned URL → complete, as `who`. */
async function upload(base: string, who: Record<string, string>, bytes: Buffer, filename: string) {
  const created = await call(base, '/uploads/create', { headers: who, json: { filename, contentType: 'text/plain', size: bytes.length } })
  expect(created.status, JSON.stringify(created.body)).toBe(200)
  const put = await putRaw(created.body.url, { headers: created.body.headers, body: bytes })
  expect(put.status, put.text).toBe(200)
  const completed = await call(base, '/uploads/complete', { headers: who, json: { token: created.body.token } })
  return { created: created.body, completed }
}

describeRgw('the NestJS 11 example (examples/nest) on RGW', () => {
  let dir: string
  let compiled: Compiled
  let t: TestBucket
  let example: { child: ChildProcess; url: string } | undefined

  beforeAll(async () => {
    assertFreshBuild()
    dir = realpathSync(mkdtempSync(join(tmpdir(), 's3pm-nest-')))
    t = await createTestBucket('nest')
    compiled = await compileExample(dir)
    if (compiled.errors.length === 0) example = await boot(compiled.app, t.bucket)
  }, 90_000)

  afterAll(async () => {
    if (example && example.child.exitCode === null) {
      const exited = new Promise((resolve) => example!.child.once('exit', resolve))
      example.child.kill('SIGTERM')
      await exited
    }
    await t?.cleanup()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** The running example's URL (its tests fail with tsc's errors when it did not compile). */
  function url(): string {
    expect(compiled.errors).toEqual([])
    return example!.url
  }

  it('compiles as CommonJS with "moduleResolution": "node" (node10), the package types found through typesVersions', () => {
    expect(compiled.errors).toEqual([])
    expect(compiled.expressTypes).toBe(join(realpathSync(repoRoot), 'dist', 'express.d.cts'))
  })

  it('refuses a caller the guard does not know with 401 and a sentence naming what to send, on every upload route', async () => {
    for (const [path, init] of [
      ['/uploads/create', { json: { filename: 'a.txt', contentType: 'text/plain', size: 1 } }],
      ['/uploads/create', { headers: { authorization: 'Bearer nobody' }, json: { filename: 'a.txt', contentType: 'text/plain', size: 1 } }],
      ['/uploads/s3/params?filename=a.txt&type=text/plain', {}],
      ['/uploads/download?key=users/alice/x', {}],
    ] as const) {
      const res = await call(url(), path, init)
      expect(res.status, path).toBe(401)
      expect(res.body.message, path).toMatch(/Sign in first: send `Authorization: Bearer <token>`/)
    }
  })

  it("uploads to RGW as the guard's user: create, PUT to the presigned URL, complete; onComplete records that user", async () => {
    const bytes = randomBytes(2048)
    const { created, completed } = await upload(url(), ALICE, bytes, 'notes ünïcode.txt')
    expect(created.key).toMatch(/^users\/alice\//)
    // The token is bound to the mount the Router gave the middleware (req.baseUrl), as with app.use('/uploads').
    expect(JSON.parse(Buffer.from(created.token.split('.')[1], 'base64url').toString()).mt).toBe('/uploads')
    expect(completed.status).toBe(200)
    const record = { key: created.key, filename: 'notes ünïcode.txt', size: bytes.length, contentType: 'text/plain', owner: 'alice' }
    expect(completed.body).toMatchObject({ key: created.key, size: bytes.length, result: record })

    expect((await call(url(), '/files', { headers: ALICE })).body).toEqual([record])
    expect((await call(url(), '/files', { headers: BOB })).body).toEqual([])
  })

  it('downloads: the owner gets the same bytes back (POST and the GET redirect); another signed-in user is refused by authorize', async () => {
    const bytes = randomBytes(1024)
    const { created } = await upload(url(), ALICE, bytes, 'back.txt')

    const link = await call(url(), '/uploads/download', { headers: ALICE, json: { key: created.key } })
    expect(link.status).toBe(200)
    const got = await fetch(link.body.url)
    expect(got.status).toBe(200)
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true)

    const redirect = await call(url(), `/uploads/download?key=${encodeURIComponent(created.key)}`, { headers: ALICE })
    expect(redirect.status).toBe(302)
    expect(Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer()).equals(bytes)).toBe(true)

    const bob = await call(url(), '/uploads/download', { headers: BOB, json: { key: created.key } })
    expect(bob.status).toBe(403)
    expect(bob.body).toMatchObject({ code: 'forbidden', message: expect.any(String) })
  })

  it("serves Uppy's GET routes below the mount, query string included", async () => {
    const res = await call(url(), '/uploads/s3/params?filename=photo.png&type=image/png', { headers: ALICE })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      method: 'POST',
      url: `${RGW_ENDPOINT}/${t.bucket}/`,
      fields: { key: expect.stringMatching(/^users\/alice\//) },
    })
  })

  it("keeps refusing bodies that are not JSON after Nest's own parsers read them (415), and takes a JSON body over 100 kB", async () => {
    const form = await call(url(), '/uploads/create', {
      headers: { ...ALICE, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'filename=a.txt&contentType=text%2Fplain&size=1',
    })
    expect(form.status).toBe(415)
    expect(form.body.code).toBe('unsupported_media_type')
    const text = await call(url(), '/uploads/complete', { headers: { ...ALICE, 'content-type': 'text/plain' }, body: '{"token":"x"}' })
    expect(text.status).toBe(415)
    expect(text.body.code).toBe('unsupported_media_type')

    // Above express.json()'s default 100 kB: Nest would answer 413 before the route without useBodyParser's limit.
    const parts = Array.from({ length: 3000 }, (_, i) => ({ partNumber: i + 1, etag: `"${'0'.repeat(32)}"` }))
    const body = JSON.stringify({ token: 'not-a-token', parts })
    expect(body.length).toBeGreaterThan(100 * 1024)
    const big = await call(url(), '/uploads/complete', { headers: { ...ALICE, 'content-type': 'application/json' }, body })
    expect(big.body.code).toBe('invalid_token')
  })

  it("passes a path below /uploads that is not an upload route to Nest's 404, never to another route", async () => {
    for (const path of ['/uploads/nope', '/uploads//create', '/uploads/create/more', '/uploads/%63reate']) {
      const res = await call(url(), path, { headers: ALICE, json: { filename: 'a.txt', contentType: 'text/plain', size: 1 } })
      expect(res.status, path).toBe(404)
      expect(res.body, path).toMatchObject({ statusCode: 404, message: `Cannot POST ${path}` })
    }
  })

  it("hands a hook that throws to Nest's exception handling (its logger, a 500 JSON), not a private error page", async () => {
    // The example's own controller in a module whose FilesService fails, as when the database is down.
    const load = createRequire(join(compiled.app, 'dist', 'main.js'))
    load('reflect-metadata')
    const { Module } = load('@nestjs/common')
    const { NestFactory } = load('@nestjs/core')
    const { UploadsController } = load('./uploads.controller.js')
    const { FilesService } = load('./files.service.js')
    const { UPLOAD_STORE, storeFromEnv } = load('./store.js')
    const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
    const store = storeFromEnv({
      S3_ENDPOINT: RGW_ENDPOINT,
      S3_BUCKET: t.bucket,
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      PRESIGN_SECRET: SECRET,
    })
    class FailingFiles {
      add(): never {
        throw new Error('the files table is unreachable')
      }
    }
    class FailingModule {}
    Module({
      controllers: [UploadsController],
      providers: [
        { provide: FilesService, useClass: FailingFiles },
        { provide: UPLOAD_STORE, useValue: store },
      ],
    })(FailingModule)
    const logged: unknown[][] = []
    const logger = { log() {}, warn() {}, debug() {}, verbose() {}, error: (...args: unknown[]) => logged.push(args) }
    const app = await NestFactory.create(FailingModule, { logger })
    await app.listen(0, '127.0.0.1')
    try {
      const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`
      const { completed } = await upload(base, ALICE, randomBytes(16), 'lost.txt')
      expect(completed.status).toBe(500)
      expect(completed.body).toEqual({ statusCode: 500, message: 'Internal server error' })
      expect(logged.flat().map(String).join('\n')).toContain('the files table is unreachable')
    } finally {
      await app.close()
    }
  })
})
