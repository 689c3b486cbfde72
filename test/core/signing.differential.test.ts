import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createSigner as createFastSigner } from '../../src/core/signing/signer'
import { createQuerySigner, encodeKey } from '../../src/core/signing/sigv4-query'
import { createSdkSigner } from '../../src/core/signing/sdk-signer'
import { objectSettingsHeaders } from '../helpers/object-settings-arb'

/**
 * SPEC §5.8: the purpose-built signer produces byte-identical URLs to `getSignedUrl` (through
 * `createSdkSigner`, the oracle) for the same request and time: random keys, buckets, endpoints,
 * regions, dates, session tokens, expiries and every header we sign.
 */

const RUNS = Number(process.env.SIGNER_RUNS ?? 1500)

const keyChar = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      ' ',
      '+',
      '~',
      '%',
      '*',
      "'",
      '!',
      '(',
      ')',
      '/',
      '//',
      '#',
      '?',
      '&',
      '=',
      ':',
      '@',
      '$',
      ',',
      ';',
      '[',
      ']',
      '"',
      '\\',
      '^',
      '`',
      '{',
      '}',
      '|',
      '<',
      '>',
    ),
    weight: 3,
  },
  { arbitrary: fc.constantFrom('é', 'e\u0301', 'ß', '日本', '😀', '\u202e', 'ǅ', '\u00a0'), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }), weight: 2 },
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/), weight: 4 },
)
const key = fc
  .array(keyChar, { minLength: 1, maxLength: 12 })
  .map((parts) => parts.join(''))
  .filter((k) => k.isWellFormed() && k.length > 0)
const metadataValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/)
const metadata = fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,12}$/), metadataValue, { maxKeys: 4 })
const date = fc.date({ min: new Date('2015-01-01T00:00:00Z'), max: new Date('2035-12-31T23:59:59Z'), noInvalidDate: true })
const region = fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1', 'eu-central-2', 'auto')
const credentials = fc.record(
  {
    accessKeyId: fc.stringMatching(/^AKIA[A-Z0-9]{16}$/),
    secretAccessKey: fc.stringMatching(/^[A-Za-z0-9/+]{40}$/),
    sessionToken: fc.stringMatching(/^[A-Za-z0-9/+=]{20,200}$/),
  },
  { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
)
// Custom endpoints (path-style, ports), AWS virtual-hosted, and a dotted bucket (the SDK goes path-style).
const endpoint = fc.constantFrom(
  { bucket: 'uploads', extra: { endpoint: 'http://127.0.0.1:7480', forcePathStyle: true } },
  { bucket: 'uploads', extra: { endpoint: 'https://minio.example.com', forcePathStyle: true } },
  { bucket: 'my-app-uploads', extra: {} },
  { bucket: 'my.dotted.bucket', extra: {} },
  { bucket: 'pathy', extra: { forcePathStyle: true } },
)
const checksum = fc.option(
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
  { nil: undefined },
)

function signers(
  e: { bucket: string; extra: Partial<S3ClientConfig> },
  r: string,
  c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
) {
  const config: S3ClientConfig = {
    region: r,
    credentials: c,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...e.extra,
  }
  return { fast: createFastSigner(e.bucket, new S3Client(config)), sdk: createSdkSigner(e.bucket, new S3Client(config)) }
}

describe('the fast signer against getSignedUrl', () => {
  it('signs PUT object URLs byte-identically', async () => {
    await fc.assert(
      fc.asyncProperty(
        endpoint,
        region,
        credentials,
        key,
        date,
        fc.integer({ min: 1, max: 604_800 }),
        metadata,
        fc.boolean(),
        checksum,
        fc.nat(5 * 1024 ** 3),
        objectSettingsHeaders,
        async (e, r, c, k, d, expiresIn, meta, ifNoneMatch, sum, size, settings) => {
          const { fast, sdk } = signers(e, r, c)
          const input = { key: k, contentType: 'image/png', size, ifNoneMatch, metadata: meta, ...(sum ? { checksum: sum } : {}), settings }
          const [ours, oracle] = await Promise.all([fast.putObject(input, expiresIn, d), sdk.putObject(input, expiresIn, d)])
          expect(ours).toEqual(oracle)
          expect(ours.url).not.toMatch(/checksum-crc32|x-amz-sdk-checksum/i)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('signs part URLs byte-identically, with and without a signed length', async () => {
    await fc.assert(
      fc.asyncProperty(
        endpoint,
        region,
        credentials,
        key,
        date,
        fc.integer({ min: 1, max: 10_000 }),
        fc.option(fc.nat(5 * 1024 ** 3), { nil: undefined }),
        fc.stringMatching(/^[A-Za-z0-9._~+/=-]{1,80}$/),
        checksum,
        async (e, r, c, k, d, partNumber, size, uploadId, sum) => {
          const { fast, sdk } = signers(e, r, c)
          const input = { key: k, uploadId, partNumber, ...(size === undefined ? {} : { size }), ...(sum ? { checksum: sum } : {}) }
          const oracle = await sdk.uploadPart(input, 900, d)
          expect(await fast.uploadPart(input, 900, d)).toEqual(oracle)
          expect(await fast.uploadParts([input, input], 900, d)).toEqual([oracle, oracle])
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  })

  it('keeps every URL identical when one signer signs many uploads and batches in turn (its caches never leak a value)', async () => {
    // One signer per endpoint for the whole run: the per-shape escaping cache, the credential and
    // signing-key caches see uploads, keys, dates and sessions change between calls.
    const config = {
      region: 'eu-west-1',
      credentials: async () => current,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      endpoint: 'http://127.0.0.1:7480',
      forcePathStyle: true,
    } as const
    let current: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = { accessKeyId: 'AKIA0', secretAccessKey: 's' }
    const fast = createFastSigner('uploads', new S3Client(config))
    const sdk = createSdkSigner('uploads', new S3Client(config))
    const part = fc.record({
      key: fc.constantFrom('a.bin', 'b/c d.bin', 'é.bin'),
      uploadId: fc.constantFrom('up-1', 'up+2/=', 'up 3~'),
      partNumber: fc.integer({ min: 1, max: 10_000 }),
      size: fc.nat(5 * 1024 ** 2),
    })
    await fc.assert(
      fc.asyncProperty(
        credentials,
        date,
        fc.array(part, { minLength: 1, maxLength: 5 }),
        objectSettingsHeaders,
        async (c, d, parts, settings) => {
          current = c
          const oracle = await Promise.all(parts.map((p) => sdk.uploadPart(p, 900, d)))
          expect(await fast.uploadParts(parts, 900, d)).toEqual(oracle)
          const put = { key: parts[0]!.key, contentType: 'text/plain', size: 3, ifNoneMatch: true, metadata: {}, settings }
          expect(await fast.putObject(put, 600, d)).toEqual(await sdk.putObject(put, 600, d))
        },
      ),
      { numRuns: Math.ceil(RUNS / 4) },
    )
  })

  it("signs a batch of one upload's parts byte-identically (built once around the part number and length)", async () => {
    await fc.assert(
      fc.asyncProperty(
        endpoint,
        region,
        credentials,
        key,
        date,
        fc.stringMatching(/^[A-Za-z0-9._~+/=-]{1,80}$/),
        fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom('none', 'all', 'mixed'),
        fc.option(fc.integer({ min: 0, max: 11 }), { nil: undefined }),
        checksum,
        async (e, r, c, k, d, uploadId, numbers, sizes, withChecksum, sum) => {
          const { fast, sdk } = signers(e, r, c)
          // Lengths on every part, on none, or on some (then each part is signed on its own), and
          // maybe a checksum on one of them (the same).
          const parts = numbers.map((partNumber, i) => ({
            key: k,
            uploadId,
            partNumber,
            ...(sizes === 'all' || (sizes === 'mixed' && i % 2 === 0) ? { size: partNumber * 7919 } : {}),
            ...(sum && withChecksum === i ? { checksum: sum } : {}),
          }))
          const oracle = await Promise.all(parts.map((p) => sdk.uploadPart(p, 900, d)))
          expect(await fast.uploadParts(parts, 900, d)).toEqual(oracle)
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  })

  it('signs GET URLs byte-identically, with and without a forced Content-Disposition', async () => {
    const disposition = fc.option(
      fc.constantFrom('attachment', 'inline', "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.html", 'attachment; filename="a b.svg"'),
      { nil: undefined },
    )
    await fc.assert(
      fc.asyncProperty(
        endpoint,
        region,
        credentials,
        key,
        date,
        fc.integer({ min: 1, max: 604_800 }),
        disposition,
        async (e, r, c, k, d, expiresIn, disp) => {
          const { fast, sdk } = signers(e, r, c)
          const input = { key: k, ...(disp ? { disposition: disp } : {}) }
          expect(await fast.getObject(input, expiresIn, d)).toBe(await sdk.getObject(input, expiresIn, d))
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  })

  it('follows credentials from a provider as they refresh', async () => {
    let n = 0
    // Temporary credentials near expiry: the SDK asks the provider again on every call.
    const provider = async () => ({
      accessKeyId: `AKIAROTATING000000${n}`,
      secretAccessKey: `secret-${n}`,
      sessionToken: `token-${n}`,
      expiration: new Date(Date.now() + 60_000),
    })
    const config: S3ClientConfig = {
      region: 'us-east-1',
      credentials: provider,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }
    const fast = createFastSigner('uploads', new S3Client(config))
    const sdk = createSdkSigner('uploads', new S3Client(config))
    const d = new Date('2026-11-28T12:00:00Z')
    for (n = 0; n < 3; n++) {
      const url = await fast.getObject({ key: 'a.txt' }, 60, d)
      expect(url).toContain(`X-Amz-Security-Token=token-${n}`)
      expect(url).toBe(await sdk.getObject({ key: 'a.txt' }, 60, d))
    }
  })
})

describe('the query signer', () => {
  it.each(['\u00a0x', 'a\vb', 'a\fb', '  a  b  ', 'a\t\tb', 'a\r\nb', ' x'])(
    'canonicalizes the header value %j as the SDK does',
    async (value) => {
      const config: S3ClientConfig = {
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' },
        endpoint: 'http://127.0.0.1:7480',
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }
      const input = { key: 'k', contentType: 'text/plain', size: 1, ifNoneMatch: false, metadata: { note: value } }
      const d = new Date('2026-11-28T12:00:00Z')
      expect(await createFastSigner('b', new S3Client(config)).putObject(input, 60, d)).toEqual(
        await createSdkSigner('b', new S3Client(config)).putObject(input, 60, d),
      )
    },
  )

  it('signs requests that differ in one query value and their length as it signs each alone (each)', () => {
    const presign = createQuerySigner()
    fc.assert(
      fc.property(
        // A parameter sorted before the X-Amz ones, between them and the signature, or after them.
        fc.constantFrom('A-first', 'X-Amz-Aa', 'partNumber', 'zz'),
        fc.array(fc.string({ unit: 'grapheme', maxLength: 6 }), { minLength: 1, maxLength: 6 }),
        fc.option(fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), { nil: undefined }),
        credentials,
        date,
        fc.constantFrom<Record<string, string>>({}, { 'x-amz-meta-a': ' b  c ' }),
        (name, values, lengths, c, d, headers) => {
          const request = (i: number) => ({
            method: 'PUT',
            protocol: 'https:',
            host: 'b.s3.eu-west-1.amazonaws.com',
            path: '/a%20b/k',
            query: { uploadId: 'u+1', [name]: values[i]!, 'x-id': 'UploadPart' },
            headers,
            length: lengths?.[i],
            region: 'eu-west-1',
            expiresIn: 900,
            date: d,
          })
          const one = values.map((_, i) => presign(request(i), c))
          expect(presign.each(request(0), c, name, values, lengths?.slice(0, values.length))).toEqual(one)
        },
      ),
      { numRuns: RUNS },
    )
    const plain = { method: 'GET', protocol: 'https:', host: 'h', path: '/k', query: {}, headers: {}, region: 'us-east-1', expiresIn: 60 }
    const c = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' }
    expect(() => presign.each(plain, c, 'partNumber', ['1'])).toThrow(/no query parameter partNumber/)
    expect(() => presign.each({ ...plain, query: { partNumber: '1' } }, c, 'partNumber', ['1'], [5])).toThrow(/no signed length/)
    expect(() => presign.each({ ...plain, query: { partNumber: '1' }, length: 5 }, c, 'partNumber', ['1', '2'], [5])).toThrow(
      /2 values but 1 lengths/,
    )
  })

  it("reproduces AWS's documented presigned GET example", () => {
    // docs.aws.amazon.com, "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"
    const url = createQuerySigner()(
      {
        method: 'GET',
        protocol: 'https:',
        host: 'examplebucket.s3.amazonaws.com',
        path: '/test.txt',
        query: {},
        headers: {},
        region: 'us-east-1',
        expiresIn: 86_400,
        date: new Date('2013-05-24T00:00:00Z'),
      },
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    )
    expect(new URL(url).searchParams.get('X-Amz-Signature')).toBe('aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404')
  })

  it('encodes keys segment by segment, keeping slashes', () => {
    expect(encodeKey("a b/c+d/é/(x)!*'~")).toBe('a%20b/c%2Bd/%C3%A9/%28x%29%21%2A%27~')
  })
})
