import { describe, expect, it } from 'vitest'
import { contentDisposition, judgeSettings, objectHeaders, tagsOf, taggingOf, validateObjectSettings } from '../../src/core/object-settings'
import type { StoredObject } from '../../src/core/storage'

/** The `object` option's pure parts (SPEC §3): what each setting becomes, and what completion checks. */

const file = { filename: 'Résumé.pdf', contentType: 'application/pdf', size: 1, metadata: {} }
const stored = (extra: Partial<StoredObject>): StoredObject => ({
  size: 1,
  contentType: 'application/pdf',
  etag: '"e"',
  metadata: {},
  checksumSha256: undefined,
  tagCount: 0,
  ...extra,
})

describe('object settings', () => {
  it('turns each setting into the header that carries it, with the pending tag after the own tags', () => {
    expect(
      objectHeaders(
        {
          serverSideEncryption: 'aws:kms',
          kmsKeyId: 'k1',
          bucketKeyEnabled: true,
          storageClass: 'STANDARD_IA',
          cacheControl: 'no-cache',
          contentDisposition: ({ filename }) => contentDisposition('inline', filename),
          tags: { 'a b': 'c&d=e' },
        },
        file,
        true,
      ),
    ).toEqual({
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'k1',
      'x-amz-server-side-encryption-bucket-key-enabled': 'true',
      'x-amz-storage-class': 'STANDARD_IA',
      'cache-control': 'no-cache',
      'content-disposition': `inline; filename="Resume.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf`,
      'x-amz-tagging': 'a%20b=c%26d%3De&presign-pending=1',
    })
    expect(objectHeaders(undefined, file, false)).toBeUndefined()
    expect(tagsOf(taggingOf({ 'a b': 'c&d=e', x: '' }))).toEqual({ 'a b': 'c&d=e', x: '' })
  })

  it('refuses a disposition function result that would break a header (a raw UTF-8 name)', () => {
    expect(() => objectHeaders({ contentDisposition: ({ filename }) => `attachment; filename="${filename}"` }, file, false)).toThrow(
      /printable ASCII/,
    )
  })

  it('writes RFC 6266 dispositions that stay under 1,024 characters, keeping the extension', () => {
    for (const name of ['日本語'.repeat(200) + '.pdf', 'a'.repeat(5000), `${'x'.repeat(3000)}.tar.gz`, '"quoted" %20 name.txt']) {
      const header = contentDisposition('attachment', name)
      expect(header.length).toBeLessThanOrEqual(1000)
      expect(header).toMatch(/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%!._~-]+$/)
      const ext = /\.[a-z]+$/.exec(name)?.[0]
      if (ext) expect(header.endsWith(ext)).toBe(true)
    }
    expect(contentDisposition('attachment', '"quoted" %20 name.txt')).toBe(
      `attachment; filename="_quoted_ _20 name.txt"; filename*=UTF-8''%22quoted%22%20%2520%20name.txt`,
    )
  })

  it('validates settings with messages that name the fix', () => {
    expect(validateObjectSettings(undefined)).toBeUndefined()
    expect(() => validateObjectSettings({ encryption: 'AES256' })).toThrow(/not an object setting/)
    expect(() => validateObjectSettings({ storageClass: 'standard' })).toThrow(/storage class/)
    expect(() => validateObjectSettings({ tags: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`t${i}`, 'v'])) })).toThrow(
      /at most 9/,
    )
    expect(() => validateObjectSettings({ tags: { 'presign-pending': '0' } })).toThrow(/presign-pending/)
    expect(() => validateObjectSettings({ tags: { a: 'x'.repeat(257) } })).toThrow(/not a valid S3 tag/)
  })

  it('judges what HEAD reports against the signed settings', () => {
    const headers = objectHeaders(
      { serverSideEncryption: 'aws:kms', kmsKeyId: 'key-1', storageClass: 'STANDARD', cacheControl: 'c', contentDisposition: 'inline' },
      file,
      false,
    )
    const good = stored({
      serverSideEncryption: 'aws:kms',
      kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/key-1',
      cacheControl: 'c',
      contentDisposition: 'inline',
    })
    expect(judgeSettings(good, headers)).toBeUndefined()
    expect(judgeSettings({ ...good, serverSideEncryption: undefined }, headers)).toMatch(/did not encrypt/)
    expect(judgeSettings({ ...good, kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/other-key-1x' }, headers)).toMatch(/another KMS key/)
    expect(judgeSettings({ ...good, storageClass: 'GLACIER' }, headers)).toMatch(/storage class GLACIER/)
    expect(judgeSettings({ ...good, cacheControl: undefined }, headers)).toMatch(/cache-control/)
    // An alias cannot be resolved without KMS: any key matches it.
    const alias = objectHeaders({ serverSideEncryption: 'aws:kms', kmsKeyId: 'alias/uploads' }, file, false)
    expect(judgeSettings(stored({ serverSideEncryption: 'aws:kms', kmsKeyId: 'arn:x:key/abc' }), alias)).toBeUndefined()
  })
})
