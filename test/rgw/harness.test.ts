import { GetBucketCorsCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestBucket, describeRgw, putRaw, s3ErrorCode } from '../helpers/rgw'

describeRgw('the RGW harness', () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>
  beforeAll(async () => {
    t = await createTestBucket('harness')
  })
  afterAll(() => t?.cleanup())

  it('creates a bucket whose CORS rule exposes ETag and Location', async () => {
    const cors = await t.client.send(new GetBucketCorsCommand({ Bucket: t.bucket }))
    expect(cors.CORSRules?.[0]?.ExposeHeaders).toEqual(expect.arrayContaining(['ETag', 'Location']))
  })

  it('is a store that checks signed lengths (so the suites prove something)', async () => {
    const url = await getSignedUrl(t.client, new PutObjectCommand({ Bucket: t.bucket, Key: 'k', ContentLength: 3, ContentType: 'text/plain' }), {
      signableHeaders: new Set(['content-type', 'content-length']),
    })
    expect((await putRaw(url, { headers: { 'content-type': 'text/plain' }, body: 'abc' })).status).toBe(200)
    const longer = await putRaw(url, { headers: { 'content-type': 'text/plain' }, body: 'abcd' })
    expect(longer.status).toBe(403)
    expect(s3ErrorCode(longer.text)).toBe('SignatureDoesNotMatch')
  })

  it('deletes the bucket on cleanup', async () => {
    const other = await createTestBucket('harness-cleanup')
    await other.cleanup()
    await expect(t.client.send(new HeadBucketCommand({ Bucket: other.bucket }))).rejects.toThrow()
  })
})
