import {
  CreateMultipartUploadCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestBucket, describeRgw, putRaw, RGW_ENDPOINT, s3ErrorCode, type TestBucket, testBucketName } from '../helpers/rgw'

/** The harness every RGW suite stands on, proved against the real Ceph RGW. */
describeRgw('RGW test harness', () => {
  let t: TestBucket
  beforeAll(async () => {
    t = await createTestBucket('harness')
  })
  afterAll(() => t?.cleanup())

  it('names buckets uniquely and validly', () => {
    const dns = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/
    expect(t.bucket).toMatch(dns)
    expect(t.bucket.startsWith('harness-')).toBe(true)
    for (const prefix of ['', '-Odd_Prefix.With.Dots-', 'x'.repeat(80)]) expect(testBucketName(prefix)).toMatch(dns)
    expect(new Set(Array.from({ length: 50 }, () => testBucketName())).size).toBe(50)
  })

  it('reads back the CORS rule: any origin, the upload methods, ETag and Location exposed', async () => {
    const { CORSRules } = await t.client.send(new GetBucketCorsCommand({ Bucket: t.bucket }))
    expect(CORSRules).toHaveLength(1)
    const rule = CORSRules![0]!
    expect(rule.AllowedOrigins).toEqual(['*'])
    expect([...(rule.AllowedMethods ?? [])].sort()).toEqual(['DELETE', 'GET', 'HEAD', 'POST', 'PUT'])
    expect(rule.AllowedHeaders).toEqual(['*'])
    expect(rule.ExposeHeaders).toEqual(['ETag', 'Location'])
  })

  it('answers a browser preflight like S3', async () => {
    const preflight = (method: string, headers: Record<string, string>) =>
      putRaw(`${RGW_ENDPOINT}/${t.bucket}/some/key`, {
        method: 'OPTIONS',
        headers: { 'access-control-request-method': method, ...headers },
      })
    const origin = 'http://app.example.test'

    const ok = await preflight('PUT', { origin, 'access-control-request-headers': 'content-type' })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/app\.example\.test)$/)
    expect(ok.headers.get('access-control-allow-methods')).toContain('PUT')
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type')
    expect(ok.headers.get('access-control-expose-headers')).toBe('ETag,Location')

    const badMethod = await preflight('PATCH', { origin })
    expect(badMethod.status).toBe(403)
    expect(badMethod.headers.get('access-control-allow-origin')).toBeNull()

    const noOrigin = await preflight('PUT', {})
    expect(noOrigin.status).toBe(400)
  })

  it('enforces signed content-length and content-type on a presigned PUT', async () => {
    const key = 'signed/length.txt'
    const url = await getSignedUrl(
      t.client,
      new PutObjectCommand({ Bucket: t.bucket, Key: key, ContentLength: 3, ContentType: 'text/plain' }),
      {
        signableHeaders: new Set(['content-type', 'content-length']),
      },
    )
    // The client config keeps the SDK's default CRC32 of an empty body out of the URL.
    expect(url).not.toMatch(/x-amz-(sdk-)?checksum/i)
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host')

    const exact = await putRaw(url, { headers: { 'content-type': 'text/plain' }, body: 'abc' })
    expect(exact.status, exact.text).toBe(200)
    expect(exact.headers.get('etag')).toBe('"900150983cd24fb0d6963f7d28e17f72"') // MD5 of "abc"

    const longer = await putRaw(url, { headers: { 'content-type': 'text/plain' }, body: 'abcd' })
    expect(longer.status).toBe(403)
    expect(s3ErrorCode(longer.text)).toBe('SignatureDoesNotMatch')

    const otherType = await putRaw(url, { headers: { 'content-type': 'text/html' }, body: 'abc' })
    expect(otherType.status).toBe(403)
    expect(s3ErrorCode(otherType.text)).toBe('SignatureDoesNotMatch')

    // The refused PUTs left the first upload alone.
    const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }))
    expect(head.ContentLength).toBe(3)
    expect(head.ContentType).toBe('text/plain')
    const got = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))
    expect(await got.Body!.transformToString()).toBe('abc')
  })

  it('cleanup aborts multipart uploads, empties and deletes the bucket', async () => {
    const other = await createTestBucket('Harness_Cleanup')
    for (let i = 0; i < 3; i++) await other.client.send(new PutObjectCommand({ Bucket: other.bucket, Key: `o/${i}`, Body: 'x' }))
    const mp = await other.client.send(new CreateMultipartUploadCommand({ Bucket: other.bucket, Key: 'mp' }))
    await other.client.send(new UploadPartCommand({ Bucket: other.bucket, Key: 'mp', UploadId: mp.UploadId, PartNumber: 1, Body: 'part' }))
    await other.client.send(new CreateMultipartUploadCommand({ Bucket: other.bucket, Key: 'mp-empty' }))

    await other.cleanup()
    await other.cleanup() // idempotent

    const gone = await t.client.send(new HeadBucketCommand({ Bucket: other.bucket })).then(
      () => 'still there',
      (err: { name?: string; $metadata?: { httpStatusCode?: number } }) => `${err.$metadata?.httpStatusCode} ${err.name}`,
    )
    expect(gone).toBe('404 NotFound')
  })
})
