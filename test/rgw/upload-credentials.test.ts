import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPresigner, type PresignOptions } from '../../src/index'
import {
  RGW_ENDPOINT,
  createTestBucket,
  describeRgw,
  grantUploaderPutOnly,
  putRaw,
  rgwClientConfig,
  rgwUploaderClientConfig,
  rgwUploaderCredentials,
  s3ErrorCode,
  type TestBucket,
} from '../helpers/rgw'

/**
 * Issue 9 item 11 (FACTS.md, "Store quirks that matter for security"): RGW 16 applies `x-amz-*`
 * headers that a presigned request did not sign. Whoever holds an upload URL adds
 * `x-amz-copy-source` and the PUT (or UploadPart) becomes a copy of any object the signing keys can
 * read; `x-amz-acl: public-read` makes his object public. AWS refuses both (403 HeadersNotSigned).
 * The defence is `uploadCredentials`: upload URLs signed by a user that may only `s3:PutObject` on
 * the key space (RGW user `uploader`, scripts/start-rgw.sh; bucket policy: grantUploaderPutOnly).
 *
 * The first suite signs with the SDK's presigner, so it shows the store's behaviour whatever the
 * package does. The second goes through `createPresigner({ uploadCredentials })`.
 */

const MiB = 1024 * 1024
const SECRET = 'TOP SECRET: salaries 2026'
const SECRET_KEY = 'private/secret.txt'
const ANYONE = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'

function bytes(size: number, fill = 0x61): Buffer {
  return Buffer.alloc(size, fill)
}

/** An anonymous GET of an object, as anyone on the internet would send it. */
function anonymousGet(bucket: string, key: string) {
  return putRaw(`${RGW_ENDPOINT}/${bucket}/${key}`, { method: 'GET' })
}

/** The access key a presigned URL was signed with (first part of `X-Amz-Credential`). */
function signingKeyOf(url: string): string | undefined {
  return new URL(url).searchParams.get('X-Amz-Credential')?.split('/')[0]
}

describeRgw('unsigned x-amz-* headers on RGW 16 and a write-only signer (issue 9 item 11)', () => {
  let t: TestBucket
  let other: TestBucket
  let policy: string
  let app: S3Client
  let uploader: S3Client
  const signedBy = (client: S3Client) => ({
    put: (key: string, bucket = t.bucket) => getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 }),
    part: (key: string, uploadId: string, partNumber: number) =>
      getSignedUrl(client, new UploadPartCommand({ Bucket: t.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }), {
        expiresIn: 600,
      }),
  })
  const read = async (key: string, bucket = t.bucket) =>
    await (await t.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()
  const exists = (key: string, bucket = t.bucket) =>
    t.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      (err: { $metadata?: { httpStatusCode?: number } }) => {
        if (err.$metadata?.httpStatusCode === 404) return false
        throw err
      },
    )

  beforeAll(async () => {
    // The S3 clients sign CRC32-of-nothing into presigned PUTs unless told otherwise (FACTS.md).
    app = new S3Client(rgwClientConfig())
    uploader = new S3Client(rgwUploaderClientConfig())
    t = await createTestBucket('upload-creds')
    other = await createTestBucket('upload-creds-other')
    await t.client.send(new PutObjectCommand({ Bucket: t.bucket, Key: SECRET_KEY, Body: SECRET }))
    await t.client.send(new PutObjectCommand({ Bucket: other.bucket, Key: SECRET_KEY, Body: `${SECRET} (other bucket)` }))
    policy = await grantUploaderPutOnly(t.bucket, 'mine/')
  })
  afterAll(async () => {
    await t?.cleanup()
    await other?.cleanup()
    app?.destroy()
    uploader?.destroy()
  })

  describe("the flaw: URLs signed with the app's keys", () => {
    it('lets the holder of a PUT URL copy a private object into his key with an unsigned x-amz-copy-source (RGW: 200 CopyObjectResult)', async () => {
      const url = await signedBy(app).put('mine/a.txt')
      const res = await putRaw(url, { headers: { 'x-amz-copy-source': `/${t.bucket}/${SECRET_KEY}` } })
      expect(res.status).toBe(200)
      expect(res.text).toContain('<CopyObjectResult')
      expect(await read('mine/a.txt')).toBe(SECRET)
    })

    it('with x-amz-metadata-directive: REPLACE, gives the copy the metadata and type the URL signed, so a tag check cannot tell it from an upload (RGW: 200)', async () => {
      const url = await getSignedUrl(
        app,
        new PutObjectCommand({
          Bucket: t.bucket,
          Key: 'mine/a-tagged.txt',
          ContentType: 'text/plain',
          Metadata: { 'presign-nonce': 'sealed-tag' },
        }),
        { expiresIn: 600, unhoistableHeaders: new Set(['x-amz-meta-presign-nonce']) },
      )
      const res = await putRaw(url, {
        headers: {
          'content-type': 'text/plain',
          'x-amz-meta-presign-nonce': 'sealed-tag',
          'x-amz-copy-source': `/${t.bucket}/${SECRET_KEY}`,
          'x-amz-metadata-directive': 'REPLACE',
        },
      })
      expect(res.status).toBe(200)
      const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: 'mine/a-tagged.txt' }))
      expect([head.ContentType, head.Metadata]).toEqual(['text/plain', { 'presign-nonce': 'sealed-tag' }])
      expect(await read('mine/a-tagged.txt')).toBe(SECRET)
    })

    it('lets him copy from another bucket the app can read (RGW: 200)', async () => {
      const url = await signedBy(app).put('mine/a-other.txt')
      const res = await putRaw(url, { headers: { 'x-amz-copy-source': `/${other.bucket}/${SECRET_KEY}` } })
      expect(res.status).toBe(200)
      expect(await read('mine/a-other.txt')).toBe(`${SECRET} (other bucket)`)
    })

    it('stores an unsigned x-amz-acl: public-read, so that anyone can GET the object (RGW: 200, anonymous GET 200)', async () => {
      const url = await signedBy(app).put('mine/b.txt')
      const put = await putRaw(url, { headers: { 'x-amz-acl': 'public-read' }, body: 'hosted for the world' })
      expect(put.status).toBe(200)
      const get = await anonymousGet(t.bucket, 'mine/b.txt')
      expect(get.status).toBe(200)
      expect(get.text).toBe('hosted for the world')
    })

    it('turns a part URL into UploadPartCopy of a private object (RGW: 200), which completes into an object holding the secret', async () => {
      const key = 'mine/c.bin'
      const { UploadId } = await t.client.send(new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: key }))
      const url = await signedBy(app).part(key, UploadId!, 1)
      const res = await putRaw(url, { headers: { 'x-amz-copy-source': `/${t.bucket}/${SECRET_KEY}` } })
      expect(res.status).toBe(200)
      expect(res.text).toContain('<CopyPartResult')
      const etag = /<ETag>([^<]+)<\/ETag>/.exec(res.text)![1]!
      await t.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: t.bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
        }),
      )
      expect(await read(key)).toBe(SECRET)
    })
  })

  describe('the defence: the same URLs signed by a user that may only s3:PutObject on mine/*', () => {
    it('sets a bucket policy that keeps the app in charge and grants the uploader PutObject on the prefix only', () => {
      const statements = JSON.parse(policy).Statement as Array<{ Sid: string; Action: string[]; Resource: string[] }>
      expect(statements.find((s) => s.Sid === 'UploaderPutOnly')).toMatchObject({
        Action: ['s3:PutObject'],
        Resource: [`arn:aws:s3:::${t.bucket}/mine/*`],
      })
    })

    it('accepts a normal presigned PUT (200), which the app then reads, HEADs and deletes', async () => {
      const url = await signedBy(uploader).put('mine/d.txt')
      expect(signingKeyOf(url)).toBe(rgwUploaderCredentials().accessKeyId)
      const put = await putRaw(url, { body: 'my own bytes' })
      expect(put.status).toBe(200)
      expect(await read('mine/d.txt')).toBe('my own bytes')
      await t.client.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: 'mine/d.txt' }))
      expect(await exists('mine/d.txt')).toBe(false)
    })

    it('refuses the copy of a private object with 403 AccessDenied and writes nothing', async () => {
      const url = await signedBy(uploader).put('mine/e.txt')
      const res = await putRaw(url, { headers: { 'x-amz-copy-source': `/${t.bucket}/${SECRET_KEY}` } })
      expect([res.status, s3ErrorCode(res.text)]).toEqual([403, 'AccessDenied'])
      expect(await exists('mine/e.txt')).toBe(false)
    })

    it("refuses the copy of the uploader's own earlier upload (another user's file) with 403, thanks to the Deny on reading", async () => {
      const first = await signedBy(uploader).put('mine/alice.txt')
      expect((await putRaw(first, { body: "alice's file" })).status).toBe(200)
      const url = await signedBy(uploader).put('mine/mallory.txt')
      const res = await putRaw(url, { headers: { 'x-amz-copy-source': `/${t.bucket}/mine/alice.txt` } })
      expect([res.status, s3ErrorCode(res.text)]).toEqual([403, 'AccessDenied'])
      expect(await exists('mine/mallory.txt')).toBe(false)
    })

    it('refuses the copy of an object in another bucket with 403 AccessDenied', async () => {
      const url = await signedBy(uploader).put('mine/e-other.txt')
      const res = await putRaw(url, { headers: { 'x-amz-copy-source': `/${other.bucket}/${SECRET_KEY}` } })
      expect([res.status, s3ErrorCode(res.text)]).toEqual([403, 'AccessDenied'])
      expect(await exists('mine/e-other.txt')).toBe(false)
    })

    it('refuses UploadPartCopy with 403 AccessDenied, while its normal part upload (200) completes', async () => {
      const key = 'mine/f.bin'
      const { UploadId } = await t.client.send(new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: key }))
      const copy = await putRaw(await signedBy(uploader).part(key, UploadId!, 2), {
        headers: { 'x-amz-copy-source': `/${t.bucket}/${SECRET_KEY}` },
      })
      expect([copy.status, s3ErrorCode(copy.text)]).toEqual([403, 'AccessDenied'])
      const part = await putRaw(await signedBy(uploader).part(key, UploadId!, 1), { body: bytes(5 * MiB) })
      expect(part.status).toBe(200)
      await t.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: t.bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.headers.get('etag')! }] },
        }),
      )
      expect((await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }))).ContentLength).toBe(5 * MiB)
    })

    it('refuses a PUT outside the granted prefix with 403 AccessDenied', async () => {
      const res = await putRaw(await signedBy(uploader).put('elsewhere/g.txt'), { body: 'x' })
      expect([res.status, s3ErrorCode(res.text)]).toEqual([403, 'AccessDenied'])
    })

    it('refuses GET and DELETE presigned with the uploader keys with 403 AccessDenied', async () => {
      const get = await putRaw(await getSignedUrl(uploader, new GetObjectCommand({ Bucket: t.bucket, Key: SECRET_KEY })), { method: 'GET' })
      expect([get.status, s3ErrorCode(get.text)]).toEqual([403, 'AccessDenied'])
      const del = await putRaw(await getSignedUrl(uploader, new DeleteObjectCommand({ Bucket: t.bucket, Key: SECRET_KEY })), {
        method: 'DELETE',
      })
      expect([del.status, s3ErrorCode(del.text)]).toEqual([403, 'AccessDenied'])
      expect(await read(SECRET_KEY)).toBe(SECRET)
    })

    it('lets the uploader create no bucket (403 AccessDenied)', async () => {
      await expect(uploader.send(new CreateBucketCommand({ Bucket: `${t.bucket}-x` }))).rejects.toMatchObject({
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      })
    })

    it('accepts a POST policy signed by the uploader (204) and ignores an x-amz-copy-source header on it', async () => {
      const post = await createPresignedPost(uploader, {
        Bucket: t.bucket,
        Key: 'mine/h.txt',
        Conditions: [['content-length-range', 0, 100]],
        Expires: 600,
      })
      const form = new FormData()
      for (const [name, value] of Object.entries(post.fields)) form.append(name, value)
      form.append('file', new Blob(['posted bytes']))
      const res = await fetch(post.url, { method: 'POST', body: form, headers: { 'x-amz-copy-source': `/${t.bucket}/${SECRET_KEY}` } })
      expect(res.status).toBe(204)
      expect(await read('mine/h.txt')).toBe('posted bytes')
    })

    // What uploadCredentials does NOT fix: RGW 16 stores the ACL of an object that the uploader may write.
    it('still stores an unsigned x-amz-acl: public-read (RGW: 200, anonymous GET 200): a write-only signer alone does not stop it', async () => {
      const put = await putRaw(await signedBy(uploader).put('mine/i.txt'), { headers: { 'x-amz-acl': 'public-read' }, body: 'public?' })
      expect(put.status).toBe(200)
      expect((await anonymousGet(t.bucket, 'mine/i.txt')).status).toBe(200)
    })

    it('makes public-read and x-amz-grant-read ineffective once the bucket has IgnorePublicAcls (PUT 200, anonymous GET 403)', async () => {
      const shielded = await createTestBucket('upload-creds-ipa')
      try {
        await grantUploaderPutOnly(shielded.bucket, 'mine/')
        await shielded.client.send(
          new PutPublicAccessBlockCommand({ Bucket: shielded.bucket, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }),
        )
        for (const [key, headers] of [
          ['mine/acl.txt', { 'x-amz-acl': 'public-read' }],
          ['mine/grant.txt', { 'x-amz-grant-read': ANYONE }],
        ] as const) {
          const put = await putRaw(await signedBy(uploader).put(key, shielded.bucket), { headers, body: 'public?' })
          expect(put.status).toBe(200)
          const get = await anonymousGet(shielded.bucket, key)
          expect([get.status, s3ErrorCode(get.text)]).toEqual([403, 'AccessDenied'])
        }
      } finally {
        await shielded.cleanup()
      }
    })

    it('refuses a public ACL once x-amz-acl: bucket-owner-full-control is a signed header (replaced: 403 SignatureDoesNotMatch; a grant added: 400 InvalidRequest)', async () => {
      const url = await getSignedUrl(
        uploader,
        new PutObjectCommand({ Bucket: t.bucket, Key: 'mine/j.txt', ACL: 'bucket-owner-full-control' }),
        {
          expiresIn: 600,
          // the presigner would otherwise move it to the query string, where it signs nothing about the header
          unhoistableHeaders: new Set(['x-amz-acl']),
        },
      )
      const replaced = await putRaw(url, { headers: { 'x-amz-acl': 'public-read' }, body: 'j' })
      expect([replaced.status, s3ErrorCode(replaced.text)]).toEqual([403, 'SignatureDoesNotMatch'])
      const granted = await putRaw(url, { headers: { 'x-amz-acl': 'bucket-owner-full-control', 'x-amz-grant-read': ANYONE }, body: 'j' })
      expect([granted.status, s3ErrorCode(granted.text)]).toEqual([400, 'InvalidRequest'])
      const normal = await putRaw(url, { headers: { 'x-amz-acl': 'bucket-owner-full-control' }, body: 'j' })
      expect(normal.status).toBe(200)
      expect((await anonymousGet(t.bucket, 'mine/j.txt')).status).toBe(403)
    })
  })
})

// Fails until createPresigner takes `uploadCredentials` (SPEC §3; the lead implements it): today the
// option is ignored, every URL is signed with the app's keys and the copy attack succeeds.
describeRgw('createPresigner with uploadCredentials on RGW 16', () => {
  let t: TestBucket
  let presigner: ReturnType<typeof createPresigner>
  const alice = {}

  beforeAll(async () => {
    t = await createTestBucket('upload-creds-pkg')
    await t.client.send(new PutObjectCommand({ Bucket: t.bucket, Key: SECRET_KEY, Body: SECRET }))
    await grantUploaderPutOnly(t.bucket, 'mine/')
    // Not an object literal, so the type check passes while the option is not declared yet.
    const options = {
      bucket: t.bucket,
      s3: rgwClientConfig(),
      uploadCredentials: rgwUploaderCredentials(),
      secret: 'upload-credentials-test-secret-0123',
      authorize: () => ({ id: 'alice' }),
      keyPrefix: 'mine/',
      multipart: { threshold: 5 * MiB, partSize: 5 * MiB },
    }
    presigner = createPresigner(options as PresignOptions)
  })
  afterAll(() => t?.cleanup())

  const createSingle = async (size: number) => {
    const created = await presigner.create({ filename: 'a.txt', contentType: 'text/plain', size }, alice)
    if (created.strategy !== 'single') throw new Error(`expected a single upload, got ${created.strategy}`)
    return created
  }

  it("signs the upload URL with the uploader's access key", async () => {
    const created = await createSingle(12)
    expect(signingKeyOf(created.url)).toBe(rgwUploaderCredentials().accessKeyId)
  })

  it('uploads with that URL (200) and completes (HEAD with the app keys)', async () => {
    const created = await createSingle(12)
    const put = await putRaw(created.url, { headers: created.headers, body: 'twelve bytes' })
    expect(put.status).toBe(200)
    const done = await presigner.complete({ token: created.token }, alice)
    expect(done).toMatchObject({ key: created.key, size: 12, contentType: 'text/plain' })
  })

  // Today (URL signed with the app's keys) RGW answers 200 CopyObjectResult; with REPLACE the copy
  // carries the signed tag and type, and `complete` verifies the secret as the attacker's upload.
  it.each([
    ['', {}],
    [' with x-amz-metadata-directive: REPLACE', { 'x-amz-metadata-directive': 'REPLACE' }],
  ])('refuses the copy attack on that URL%s (403 AccessDenied), so complete finds nothing to verify', async (_name, extra) => {
    const created = await createSingle(SECRET.length)
    const res = await putRaw(created.url, {
      headers: { ...created.headers, 'x-amz-copy-source': `/${t.bucket}/${SECRET_KEY}`, ...extra },
      body: bytes(SECRET.length),
    })
    expect([res.status, s3ErrorCode(res.text)]).toEqual([403, 'AccessDenied'])
    await expect(t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: created.key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    })
    await expect(presigner.complete({ token: created.token }, alice)).rejects.toMatchObject({ code: 'verification_failed' })
  })

  it('signs part URLs with the uploader key: UploadPartCopy gets 403, the parts upload (200) and complete', async () => {
    const size = 6 * MiB
    const created = await presigner.create({ filename: 'big.bin', contentType: 'application/octet-stream', size }, alice)
    expect(created.strategy).toBe('multipart')
    if (created.strategy !== 'multipart') return
    const { parts } = await presigner.signParts({ token: created.token, partNumbers: [1, 2] }, alice)
    for (const part of parts) expect(signingKeyOf(part.url)).toBe(rgwUploaderCredentials().accessKeyId)
    const [one, two] = parts as [(typeof parts)[number], (typeof parts)[number]]
    const copy = await putRaw(one.url, {
      headers: { ...one.headers, 'x-amz-copy-source': `/${t.bucket}/${SECRET_KEY}` },
      body: bytes(5 * MiB),
    })
    expect([copy.status, s3ErrorCode(copy.text)]).toEqual([403, 'AccessDenied'])
    const etags: string[] = []
    for (const [part, body] of [
      [one, bytes(5 * MiB)],
      [two, bytes(size - 5 * MiB, 0x62)],
    ] as const) {
      const res = await putRaw(part.url, { headers: part.headers, body })
      expect(res.status).toBe(200)
      etags.push(res.headers.get('etag')!)
    }
    const done = await presigner.complete({ token: created.token, parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) }, alice)
    expect(done).toMatchObject({ key: created.key, size })
  })

  it("signs Uppy's POST policy with the uploader key, and the POST uploads (2xx)", async () => {
    const res = await presigner.handle({
      method: 'GET',
      path: '/s3/params',
      query: new URLSearchParams({ filename: 'p.txt', type: 'text/plain' }),
      readBody: async () => ({}),
      request: alice,
    })
    expect(res?.status).toBe(200)
    const { url, fields } = res!.body as { url: string; fields: Record<string, string> }
    const credential = Object.entries(fields).find(([name]) => name.toLowerCase() === 'x-amz-credential')?.[1]
    expect(credential?.split('/')[0]).toBe(rgwUploaderCredentials().accessKeyId)
    const form = new FormData()
    for (const [name, value] of Object.entries(fields)) form.append(name, value)
    form.append('file', new Blob(['posted'], { type: 'text/plain' }))
    const post = await fetch(url, { method: 'POST', body: form })
    expect(post.status).toBeLessThan(300)
  })

  it("signs download URLs with the app's keys (the uploader can read nothing)", async () => {
    await t.client.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'mine/report.txt', Body: 'report' }))
    const { url } = await presigner.download({ key: 'mine/report.txt' }, alice)
    const { accessKeyId } = rgwClientConfig().credentials as { accessKeyId: string }
    expect(signingKeyOf(url)).toBe(accessKeyId)
    const get = await putRaw(url, { method: 'GET' })
    expect([get.status, get.text]).toEqual([200, 'report'])
  })
})
