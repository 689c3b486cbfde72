import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { PresignOptions } from '../../src/core/options'
import { targets } from '../helpers/targets'

/**
 * Storage faults RGW cannot be made to show, from a fake S3 endpoint on a real socket (so the
 * SDK's HTTP handler, retries and XML parsing all run): 5xx, 503, CompleteMultipartUpload
 * answering 200 with an <Error> body, a connection reset mid-response. Each must give SPEC §4.3
 * JSON in bounded time, run no `onComplete`, and leave the server serving.
 */

type Behaviour = (req: IncomingMessage, res: ServerResponse) => void
let behaviour: Record<string, Behaviour> = {}
const seen: string[] = []
/** Like S3, the fake keeps the tag metadata an upload was started with and shows it on the finished object. */
let nonce = ''

function operation(req: IncomingMessage): string {
  const url = new URL(req.url ?? '/', 'http://x')
  if (req.method === 'POST' && url.searchParams.has('uploads')) return 'CreateMultipartUpload'
  if (req.method === 'POST' && url.searchParams.has('uploadId')) return 'CompleteMultipartUpload'
  if (req.method === 'GET' && url.searchParams.has('uploadId')) return 'ListParts'
  if (req.method === 'DELETE' && url.searchParams.has('uploadId')) return 'AbortMultipartUpload'
  if (req.method === 'DELETE') return 'DeleteObject'
  if (req.method === 'HEAD') return 'HeadObject'
  return `${req.method} ${url.pathname}`
}

const xml = (res: ServerResponse, status: number, body: string) => {
  res.writeHead(status, { 'content-type': 'application/xml' })
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`)
}

const MiB = 1024 * 1024
const healthy: Record<string, Behaviour> = {
  CreateMultipartUpload: (_req, res) =>
    xml(
      res,
      200,
      '<InitiateMultipartUploadResult><Bucket>faults</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>',
    ),
  ListParts: (_req, res) =>
    xml(
      res,
      200,
      `<ListPartsResult><Bucket>faults</Bucket><UploadId>up-1</UploadId><IsTruncated>false</IsTruncated>${[1, 2]
        .map((n) => `<Part><PartNumber>${n}</PartNumber><ETag>"e${n}"</ETag><Size>${n === 1 ? 5 * MiB : MiB}</Size></Part>`)
        .join('')}</ListPartsResult>`,
    ),
  CompleteMultipartUpload: (_req, res) =>
    xml(res, 200, '<CompleteMultipartUploadResult><Bucket>faults</Bucket><Key>k</Key><ETag>"x-2"</ETag></CompleteMultipartUploadResult>'),
  HeadObject: (_req, res) => {
    // 404 before completion (the overwrite check), the object afterwards.
    if (!seen.includes('CompleteMultipartUpload')) {
      res.writeHead(404)
      res.end()
      return
    }
    res.writeHead(200, {
      'content-length': String(6 * MiB),
      'content-type': 'application/octet-stream',
      etag: '"x-2"',
      'x-amz-meta-presign-nonce': nonce,
    })
    res.end()
  },
  AbortMultipartUpload: (_req, res) => {
    res.writeHead(204)
    res.end()
  },
  DeleteObject: (_req, res) => {
    res.writeHead(204)
    res.end()
  },
}

let s3: Server
let endpoint = ''
beforeAll(async () => {
  s3 = createServer((req, res) => {
    const op = operation(req)
    seen.push(op)
    if (op === 'CreateMultipartUpload') nonce = String(req.headers['x-amz-meta-presign-nonce'] ?? '')
    req.resume()
    req.on('end', () =>
      (behaviour[op] ?? healthy[op] ?? ((_q, r: ServerResponse) => xml(r, 400, '<Error><Code>Unexpected</Code></Error>')))(req, res),
    )
  })
  await new Promise<void>((resolve) => s3.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(s3.address() as { port: number }).port}`
})
afterAll(() => new Promise<void>((resolve) => s3.close(() => resolve())))
beforeEach(() => {
  behaviour = {}
  seen.length = 0
  nonce = ''
})

const onComplete = vi.fn(() => ({ ok: true }))
const options = (): PresignOptions<any, any, any> => ({
  bucket: 'faults',
  region: 'us-east-1',
  s3: { endpoint, forcePathStyle: true, credentials: { accessKeyId: 'AKIAFAULT', secretAccessKey: 'x' }, maxAttempts: 2 },
  secret: 'faults-secret-0123456789',
  authorize: () => ({ id: 'u' }),
  onComplete,
  multipart: { threshold: 5 * MiB },
  timeout: 2000,
})

const express5 = targets.find((t) => t.name === 'Express 5')!

async function startedUpload(app: ReturnType<typeof request>) {
  const res = await app.post('/uploads/create').send({ filename: 'f.bin', contentType: 'application/octet-stream', size: 6 * MiB })
  expect(res.status).toBe(200)
  expect(seen).toContain('CreateMultipartUpload')
  expect(nonce).not.toBe('')
  return res.body as { token: string }
}

describe('storage faults, through a real socket', () => {
  beforeEach(() => onComplete.mockClear())

  it('completes when storage is healthy (the baseline the faults differ from)', async () => {
    const app = request(express5.build(options()))
    const { token } = await startedUpload(app)
    const res = await app.post('/uploads/complete').send({ token })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ size: 6 * MiB, etag: '"x-2"', result: { ok: true } })
    expect(seen).toEqual(['CreateMultipartUpload', 'ListParts', 'HeadObject', 'CompleteMultipartUpload', 'HeadObject'])
  })

  it.each([
    ['answers 500', 500, 'InternalError', 502, 'storage_error'],
    ['answers 503 SlowDown', 503, 'SlowDown', 503, 'storage_unavailable'],
  ])('ListParts that %s gives %i JSON without S3 details', async (_name, s3Status, code, status, errorCode) => {
    const app = request(express5.build(options()))
    const { token } = await startedUpload(app)
    behaviour.ListParts = (_req, res) => xml(res, s3Status, `<Error><Code>${code}</Code><Message>secret internals</Message></Error>`)
    const started = Date.now()
    const res = await app.post('/uploads/complete').send({ token })
    expect(res.status).toBe(status)
    expect(res.body.code).toBe(errorCode)
    expect(res.text).not.toMatch(/secret internals|<Error>/)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(onComplete).not.toHaveBeenCalled()
  })

  it('treats CompleteMultipartUpload answering 200 with an <Error> body as the failure it is', async () => {
    const app = request(express5.build(options()))
    const { token } = await startedUpload(app)
    behaviour.CompleteMultipartUpload = (_req, res) =>
      xml(res, 200, '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>')
    const res = await app.post('/uploads/complete').send({ token })
    // The SDK's throw-200-exceptions middleware turns it into a retryable 503 (and retries it).
    expect(res.status).toBe(503)
    expect(res.body.code).toBe('storage_unavailable')
    expect(seen.filter((op) => op === 'CompleteMultipartUpload')).toHaveLength(2)
    expect(onComplete).not.toHaveBeenCalled()
  })

  it('answers a connection reset mid-response with a 5xx JSON error and keeps serving', async () => {
    const listener = express5.build(options())
    const app = request(listener)
    const { token } = await startedUpload(app)
    behaviour.ListParts = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': '500' })
      res.write('<?xml version="1.0"?><ListPartsResult><Part>')
      setTimeout(() => res.socket?.destroy(), 10)
    }
    const res = await app.post('/uploads/complete').send({ token })
    expect(res.status).toBeGreaterThanOrEqual(502)
    expect(res.status).toBeLessThanOrEqual(504)
    expect(res.body.message).toBeTruthy()
    behaviour = {}
    const after = await request(listener).post('/uploads/create').send({ filename: 'ok.txt', contentType: 'text/plain', size: 3 })
    expect(after.status).toBe(200)
  })

  it('keeps the object when onComplete throws, and a retried complete re-verifies and re-runs the hook', async () => {
    const failing = vi.fn().mockRejectedValueOnce(new Error('database down')).mockResolvedValueOnce({ saved: true })
    const listener = express5.build({ ...options(), onComplete: failing })
    const app = request(listener)
    const { token } = await startedUpload(app)
    const first = await app.post('/uploads/complete').send({ token })
    expect(first.status).toBe(500) // the host's error handler got the hook's error
    expect(seen).not.toContain('DeleteObject')
    expect(seen).not.toContain('AbortMultipartUpload')
    // S3 now says the upload is gone (completed): the retry verifies the object and runs the hook again.
    behaviour.ListParts = (_req, res) => xml(res, 404, '<Error><Code>NoSuchUpload</Code></Error>')
    const second = await app.post('/uploads/complete').send({ token })
    expect(second.status).toBe(200)
    expect(second.body.result).toEqual({ saved: true })
    expect(failing).toHaveBeenCalledTimes(2)
  })
})
