import { DeleteBucketCommand, DeleteObjectCommand, HeadBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { afterAll, expect, it, vi } from 'vitest'
import { RGW_ENDPOINT, describeRgw, putRaw, rgwClient, rgwClientConfig, testBucketName } from '../helpers/rgw'

/**
 * The demo on a real store (issue 11 item 7): with S3_ENDPOINT set and a bucket that does not exist
 * yet, the example creates it with CORS for pages on this machine, and a browser-style upload
 * (preflight from the page's origin, presigned PUT, complete) works without any other step.
 */
describeRgw('the demo on a real store (S3_ENDPOINT)', () => {
  const bucket = testBucketName('demo-new')
  const client = rgwClient()
  let demo: { url: string; close: () => Promise<void> } | undefined

  afterAll(async () => {
    await demo?.close()
    vi.unstubAllEnvs()
    vi.restoreAllMocks()
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket })).catch(() => undefined)
    for (const o of listed?.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }))
    await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined)
  })

  it('creates a missing bucket with CORS for local pages, and an upload from the page origin works', async () => {
    const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
    vi.stubEnv('S3_ENDPOINT', RGW_ENDPOINT)
    vi.stubEnv('S3_BUCKET', bucket)
    vi.stubEnv('S3_REGION', 'us-east-1')
    vi.stubEnv('S3_ACCESS_KEY_ID', credentials.accessKeyId)
    vi.stubEnv('S3_SECRET_ACCESS_KEY', credentials.secretAccessKey)
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    await expect(client.send(new HeadBucketCommand({ Bucket: bucket }))).rejects.toThrow()
    // @ts-expect-error: a plain JavaScript example, imported as a user would run it
    const { start } = await import('../../examples/express/server.mjs')
    demo = await start({ port: 0 })
    expect(log.mock.calls.flat().join('\n')).toMatch(new RegExp(`created the bucket "${bucket}"`))
    const origin = demo!.url

    const created = await (
      await fetch(`${origin}/uploads/document/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'hello.txt', contentType: 'text/plain', size: 5 }),
      })
    ).json()
    const preflight = await fetch(created.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': Object.keys(created.headers).join(',') },
    })
    expect(preflight.status).toBe(200)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin)
    expect((await putRaw(created.url, { headers: { ...created.headers, origin }, body: 'hello' })).status).toBe(200)
    const done = await fetch(`${origin}/uploads/document/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: created.token }),
    })
    expect(done.status).toBe(200)
  })
})
