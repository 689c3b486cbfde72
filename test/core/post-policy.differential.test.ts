import { createHmac } from 'node:crypto'
import { HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { PostToSign } from '../../src/core/signing/operations'
import { type PostTarget, createPostSigner } from '../../src/core/signing/post-policy'
import { createSdkSigner } from '../../src/core/signing/sdk-signer'
import { createSigner } from '../../src/core/signing/signer'
import { type Credentials, type SigningKeys, createQuerySigner, createSigningKeys } from '../../src/core/signing/sigv4-query'
import { postFieldsOf } from '../../src/core/object-settings'
import { objectSettingsHeaders } from '../helpers/object-settings-arb'
import { createTestBucket, describeRgw, rgwClientConfig, s3ErrorCode, type TestBucket } from '../helpers/rgw'

/**
 * Issue 14 item 2: POST Object policies built without the SDK. For the same time, every form field
 * (key, Content-Type, x-amz-meta-*, bucket, X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
 * X-Amz-Security-Token, Policy, X-Amz-Signature), their order and the URL are identical to
 * `createPresignedPost`'s (through `createSdkSigner`, the oracle), and Ceph RGW enforces them.
 */

const RUNS = Number(process.env.SIGNER_RUNS ?? 1500)
// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's POST Object variable, not a template.
const FILENAME = '${filename}'

const keyChar = fc.oneof(
  { arbitrary: fc.constantFrom(' ', '+', '%', '/', '//', '?', '&', '=', '#', '"', '\\', "'", '<', '>', '~', '*'), weight: 3 },
  // `${filename}` is a variable in POST Object keys: the SDK pins only what comes before a trailing one.
  { arbitrary: fc.constantFrom(FILENAME, '$', '{', '}', '$' + '{', '$filename', FILENAME.replace('name', '')), weight: 2 },
  { arbitrary: fc.constantFrom('é', 'e\u0301', 'ß', '日本', '😀', '\u202e', '\u2028', '\u00a0'), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }), weight: 2 },
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/), weight: 4 },
)
const key = fc.oneof(
  fc.array(keyChar, { minLength: 1, maxLength: 12 }).map((parts) => parts.join('')),
  fc.array(keyChar, { maxLength: 6 }).map((parts) => `${parts.join('')}${FILENAME}`),
)
const metadataValue = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', '"quoted"', 'back\\slash', '</script>', 'a\tb', 'x\u2028y', FILENAME),
)
const metadata = fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,12}$/), metadataValue, { maxKeys: 4 })
const contentType = fc.constantFrom(
  'image/png',
  'application/octet-stream',
  'text/plain; charset="utf-8"',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'multipart/x+y; a=b; c="d e"',
)
// Up to S3's single-upload limit and beyond (a route may allow any `maxFileSize`), 0 included.
const maxSize = fc.oneof(fc.nat(10 * 1024 ** 2), fc.nat(5 * 1024 ** 3), fc.constantFrom(0, 5 * 1024 ** 3, 48.8 * 1024 ** 4))
const date = fc.date({ min: new Date('2015-01-01T00:00:00Z'), max: new Date('2035-12-31T23:59:59Z'), noInvalidDate: true })
const region = fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1', 'eu-central-2', 'auto')
const credentials = fc.record(
  {
    accessKeyId: fc.stringMatching(/^AKIA[A-Z0-9]{16}$/),
    secretAccessKey: fc.stringMatching(/^[A-Za-z0-9/+]{40}$/),
    sessionToken: fc.oneof(fc.stringMatching(/^[A-Za-z0-9/+=]{20,300}$/), fc.constant('')),
  },
  { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
)
// Custom endpoints (path-style, ports, a base path, virtual-hosted), AWS virtual-hosted, a dotted
// bucket (the SDK goes path-style), and path-style on AWS.
const endpoint = fc.constantFrom(
  { bucket: 'uploads', extra: { endpoint: 'http://127.0.0.1:7480', forcePathStyle: true } },
  { bucket: 'uploads', extra: { endpoint: 'https://minio.example.com', forcePathStyle: true } },
  { bucket: 'uploads', extra: { endpoint: 'https://gateway.example.com:9443/s3', forcePathStyle: true } },
  { bucket: 'uploads', extra: { endpoint: 'https://minio.example.com:443/base/', forcePathStyle: true } },
  { bucket: 'uploads', extra: { endpoint: 'https://storage.example.com' } },
  { bucket: 'my-app-uploads', extra: {} },
  { bucket: 'my.dotted.bucket', extra: {} },
  { bucket: 'pathy', extra: { forcePathStyle: true } },
)

function configOf(e: { extra: Partial<S3ClientConfig> }, r: string, c: S3ClientConfig['credentials']): S3ClientConfig {
  return {
    region: r,
    credentials: c,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...e.extra,
  }
}

/** What `signer.ts` resolves once per signer (a probe URL from the SDK) and its current credentials. */
async function resolve(bucket: string, client: S3Client) {
  const probe = new URL(await createSdkSigner(bucket, client).getObject({ key: 'k' }, 60))
  const target: PostTarget = {
    bucket,
    protocol: probe.protocol,
    host: probe.host,
    prefix: probe.pathname.slice(0, -1),
    region: await client.config.region(),
  }
  const credentials: Credentials = await client.config.credentials()
  return { target, credentials }
}

const iso8601 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

/** The policy document a form carries. */
function policyOf(fields: Record<string, string>): { expiration: string; conditions: unknown[] } {
  return JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8'))
}

/** SigV4 for a POST policy, derived from scratch: HMAC of the base64 policy with the day's signing key. */
function expectedSignature(policy: string, secret: string, day: string, regionName: string): string {
  let k: Buffer = createHmac('sha256', `AWS4${secret}`).update(day).digest()
  for (const part of [regionName, 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest()
  return createHmac('sha256', k).update(policy).digest('hex')
}

/** createPresignedPost takes no date: it reads the clock, so the clock is set (only Date is faked). */
async function at<T>(d: Date, fn: () => T | Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(d)
  try {
    return await fn()
  } finally {
    vi.useRealTimers()
  }
}

describe('POST policies against createPresignedPost', () => {
  it('produces the same fields, in the same order, and the same URL, for the same time', async () => {
    // One client per endpoint and region (a client's first request costs milliseconds), each
    // asking for the run's credentials on every call (as with ever-refreshing temporary ones).
    let current: Credentials = { accessKeyId: '', secretAccessKey: '' }
    const clients = new Map<string, Promise<{ client: S3Client; target: PostTarget }>>()
    function clientFor(e: { bucket: string; extra: Partial<S3ClientConfig> }, r: string) {
      const id = `${e.bucket} ${JSON.stringify(e.extra)} ${r}`
      let entry = clients.get(id)
      if (!entry) {
        const client = new S3Client(configOf(e, r, async () => ({ ...current, expiration: new Date(0) })))
        entry = resolve(e.bucket, client).then(({ target }) => ({ client, target }))
        clients.set(id, entry)
      }
      return entry
    }
    // One signer for every run: its key cache sees many secrets, days and regions.
    const signPost = createPostSigner()
    await fc.assert(
      fc.asyncProperty(
        endpoint,
        region,
        credentials,
        key,
        contentType,
        metadata,
        maxSize,
        date,
        fc.integer({ min: 1, max: 604_800 }),
        objectSettingsHeaders,
        async (e, r, c, k, type, meta, max, d, expiresIn, settings) => {
          current = c
          const { client, target } = await clientFor(e, r)
          const input: PostToSign = { key: k, contentType: type, maxSize: max, metadata: meta, settings }
          const resolved: Credentials = await client.config.credentials()
          const [oracle, clockRead] = await at(d, async () => {
            const sdk = await createSdkSigner(e.bucket, client).postObject(input, expiresIn)
            // The drop-in reads the (same) clock when no date is given.
            return [sdk, signPost(input, expiresIn, undefined, target, resolved)] as const
          })

          const ours = signPost(input, expiresIn, d, target, resolved)
          expect(ours).toEqual(oracle)
          expect(Object.keys(ours.fields)).toEqual(Object.keys(oracle.fields))
          expect(clockRead).toEqual(oracle)

          // What the policy says, decoded: the expiry, the length range, and every field pinned.
          const day = ours.fields['X-Amz-Date']!.slice(0, 8)
          expect(ours.fields['X-Amz-Date']).toBe(iso8601(d).replace(/[-:]/g, ''))
          expect(ours.fields['X-Amz-Credential']).toBe(`${c.accessKeyId}/${day}/${r}/s3/aws4_request`)
          expect(ours.fields['X-Amz-Security-Token']).toBe(c.sessionToken || undefined)
          expect(ours.url.endsWith('/')).toBe(true)
          const policy = policyOf(ours.fields)
          expect(policy.expiration).toBe(iso8601(new Date(d.getTime() + expiresIn * 1000)))
          expect(policy.conditions[0]).toEqual(['content-length-range', 0, max])
          const { key: formKey, Policy, 'X-Amz-Signature': signature, ...pinned } = ours.fields
          expect(formKey).toBe(k)
          expect(Object.keys(pinned).sort()).toEqual(
            ['Content-Type', 'bucket', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date']
              .concat(
                Object.keys(meta).map((m) => `x-amz-meta-${m}`),
                c.sessionToken ? ['X-Amz-Security-Token'] : [],
                Object.keys(postFieldsOf(settings)),
              )
              .sort(),
          )
          expect(pinned['Content-Type']).toBe(type)
          for (const [m, v] of Object.entries(meta)) expect(pinned[`x-amz-meta-${m}`]).toBe(v)
          for (const [f, v] of Object.entries(postFieldsOf(settings))) expect(pinned[f]).toBe(v)
          expect(policy.conditions.slice(1, -1)).toEqual(Object.entries(pinned).map(([name, value]) => ({ [name]: value })))
          expect(policy.conditions.at(-1)).toEqual(
            k.endsWith(FILENAME) ? ['starts-with', '$key', k.slice(0, -FILENAME.length)] : { key: k },
          )
          expect(signature).toBe(expectedSignature(Policy!, c.secretAccessKey, day, r))
        },
      ),
      { numRuns: RUNS },
    )
    for (const entry of clients.values()) (await entry).client.destroy()
  }, 120_000) // createPresignedPost is the slow side: about 2 ms a run on a loaded machine

  it('signs with the signing keys it is given, shared with the query signer, and follows rotated credentials', async () => {
    const cache = createSigningKeys()
    const asked: string[] = []
    const keys: SigningKeys = (secret, day, regionName, service) => {
      asked.push(`${secret} ${day} ${regionName} ${service}`)
      return cache(secret, day, regionName, service)
    }
    const signPost = createPostSigner(keys)
    const presign = createQuerySigner(keys)
    const d = new Date('2026-11-28T12:34:56.789Z')
    const input: PostToSign = { key: 'a/b.png', contentType: 'image/png', maxSize: 1234, metadata: { owner: '42' } }
    for (const n of [0, 1, 0]) {
      const config = configOf({ extra: {} }, 'eu-west-1', {
        accessKeyId: `AKIAROTATING000000${n}`,
        secretAccessKey: `secret-${n}`,
        sessionToken: `token-${n}`,
      })
      const client = new S3Client(config)
      const { target, credentials: c } = await resolve('uploads', client)
      asked.length = 0
      const ours = signPost(input, 600, d, target, c)
      presign({ ...target, method: 'GET', path: '/a/b.png', query: {}, headers: {}, expiresIn: 60, date: d }, c)
      expect(asked).toEqual([`secret-${n} 20261128 eu-west-1 s3`, `secret-${n} 20261128 eu-west-1 s3`])
      expect(ours).toEqual(await at(d, () => createSdkSigner('uploads', client).postObject(input, 600)))
      expect(ours.fields['X-Amz-Security-Token']).toBe(`token-${n}`)
    }
  })

  it('produces the same policy as createPresignedPost through the Signer, clock skew correction included', async () => {
    // Holds before and after signer.ts delegates `postObject` to post-policy.ts.
    const d = new Date('2026-11-28T23:59:59.999Z')
    for (const systemClockOffset of [0, 3_600_000, -90_000]) {
      const config: S3ClientConfig = {
        ...configOf({ extra: { endpoint: 'http://127.0.0.1:7480', forcePathStyle: true } }, 'us-east-1', {
          accessKeyId: 'AKIAEXAMPLE000000000',
          secretAccessKey: 'x'.repeat(40),
        }),
        systemClockOffset,
      }
      const input: PostToSign = { key: `u/${FILENAME}`, contentType: 'image/png', maxSize: 99, metadata: {} }
      const [ours, oracle] = await at(d, () =>
        Promise.all([
          createSigner('b', new S3Client(config)).postObject(input, 60),
          createSdkSigner('b', new S3Client(config)).postObject(input, 60),
        ]),
      )
      expect(ours).toEqual(oracle)
      expect(ours.fields['X-Amz-Date']).toBe(iso8601(new Date(d.getTime() + systemClockOffset)).replace(/[-:]/g, ''))
    }
  })
})

describeRgw('POST policies on Ceph RGW', () => {
  let bucket: TestBucket
  let other: TestBucket
  let target: PostTarget
  let credentials: Credentials
  const signPost = createPostSigner()
  const objects = new S3Client(rgwClientConfig())

  beforeAll(async () => {
    bucket = await createTestBucket('post-policy')
    other = await createTestBucket('post-policy-other')
    ;({ target, credentials } = await resolve(bucket.bucket, objects))
  })
  afterAll(async () => {
    objects.destroy()
    await bucket?.cleanup()
    await other?.cleanup()
  })

  /** A browser form upload: the fields in order, then the file. */
  async function post(url: string, fields: Record<string, string>, body: string, filename = 'file.bin') {
    const form = new FormData()
    for (const [name, value] of Object.entries(fields)) form.append(name, value)
    form.append('file', new Blob([body]), filename)
    const res = await fetch(url, { method: 'POST', body: form })
    const text = await res.text()
    return { status: res.status, code: s3ErrorCode(text), text }
  }

  function form(key: string, maxSize: number, metadata: Record<string, string> = {}, date?: Date, expiresIn = 600) {
    return signPost({ key, contentType: 'text/plain', maxSize, metadata }, expiresIn, date, target, credentials)
  }

  it('accepts a form upload with the signed fields (204) and stores its type and metadata', async () => {
    const key = 'uploads/héllo wörld+1.txt'
    const { url, fields } = form(key, 10, { owner: 'user 42', note: 'ünïcode' })
    expect(url).toBe(`${target.protocol}//${target.host}/${bucket.bucket}/`)
    const res = await post(url, fields, '0123456789')
    expect(res).toMatchObject({ status: 204 })
    const head = await objects.send(new HeadObjectCommand({ Bucket: bucket.bucket, Key: key }))
    expect(head.ContentLength).toBe(10)
    expect(head.ContentType).toBe('text/plain')
    expect(head.Metadata).toMatchObject({ owner: 'user 42' })
  })

  it('refuses a body over the signed content-length-range (EntityTooLarge)', async () => {
    const { url, fields } = form('uploads/too-large.txt', 10)
    const res = await post(url, fields, '0123456789X')
    expect(res.status).toBe(400)
    expect(res.code).toBe('EntityTooLarge')
    await expect(objects.send(new HeadObjectCommand({ Bucket: bucket.bucket, Key: 'uploads/too-large.txt' }))).rejects.toThrow()
  })

  it.each([
    ['Content-Type', 'text/html'],
    ['x-amz-meta-owner', 'someone else'],
    ['key', 'uploads/another-key.txt'],
  ])('refuses a form whose %s was changed after signing (403)', async (name, value) => {
    const { url, fields } = form('uploads/tampered.txt', 100, { owner: 'user 42' })
    const res = await post(url, { ...fields, [name]: value }, '<script>alert(1)</script>')
    expect(res.status).toBe(403)
    for (const k of ['uploads/tampered.txt', 'uploads/another-key.txt']) {
      await expect(objects.send(new HeadObjectCommand({ Bucket: bucket.bucket, Key: k }))).rejects.toThrow()
    }
  })

  it('refuses a form posted to another bucket of the same owner (403)', async () => {
    const { fields } = form('uploads/elsewhere.txt', 100)
    const res = await post(`${target.protocol}//${target.host}/${other.bucket}/`, fields, 'x')
    expect(res.status).toBe(403)
    await expect(objects.send(new HeadObjectCommand({ Bucket: other.bucket, Key: 'uploads/elsewhere.txt' }))).rejects.toThrow()
  })

  it('refuses a form with a forged signature or an expired policy (403)', async () => {
    const fresh = form('uploads/forged.txt', 100)
    const forged = { ...fresh.fields, 'X-Amz-Signature': fresh.fields['X-Amz-Signature']!.replace(/^./, (c) => (c === '0' ? '1' : '0')) }
    expect((await post(fresh.url, forged, 'x')).status).toBe(403)
    const expired = form('uploads/expired.txt', 100, {}, new Date(Date.now() - 3_600_000), 60)
    expect((await post(expired.url, expired.fields, 'x')).status).toBe(403)
  })
})
