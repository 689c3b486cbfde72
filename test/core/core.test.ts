import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createPresigner } from '../../src/core/presigner'
import { isPresignError, PresignError } from '../../src/core/errors'
import {
  assertValidKey,
  contentTypeMatcher,
  defaultKey,
  isContentType,
  keyProblem,
  sanitizeAnyFilename,
  sanitizeFilename,
} from '../../src/core/keys'
import { createTokenSealer, type UploadToken } from '../../src/core/token'
import type { PresignOptions } from '../../src/core/options'

const claims: UploadToken = {
  key: 'a/b.png',
  size: 10,
  contentType: 'image/png',
  identityId: 'alice',
  tag: 'tag',
  expiresAt: 2_000_000_000,
  scope: 'rules',
  bucket: 'b',
  maxFileSize: 100,
  overwrite: false,
  expiresIn: 600,
}

describe('upload tokens', () => {
  const sealer = createTokenSealer(['first-secret-0123456789'])

  it('open returns what seal sealed', () => {
    expect(sealer.open(sealer.seal(claims), 1_000)).toEqual(claims)
  })

  // seal writes the claims' JSON itself (token.ts claimsJson): every claim, and strings of every
  // kind (quotes, backslashes, controls, lone surrogates, astral characters), come back as sealed.
  it('opens every token it seals back to its claims, whatever their strings', () => {
    const tricky = fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\uD800', '\uDFFF', '😀', 'a', 'é', '\u2028', '/')
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: tricky, maxLength: 12 }))
    const whole = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
    const token: fc.Arbitrary<UploadToken> = fc.record(
      {
        key: text,
        uploadId: text,
        size: whole,
        contentType: text,
        identityId: fc.option(text, { nil: null }),
        tag: text,
        expiresAt: fc.integer({ min: 2_000, max: 2 ** 40 }),
        partSize: fc.integer({ min: 1, max: 2 ** 40 }),
        checksum: text,
        scope: text,
        mount: text,
        bucket: text,
        maxFileSize: whole,
        overwrite: fc.boolean(),
        expiresIn: fc.integer({ min: 1, max: 604_800 }),
        settings: fc.dictionary(text, text, { maxKeys: 4 }),
      },
      {
        requiredKeys: ['key', 'contentType', 'identityId', 'tag', 'expiresAt', 'scope', 'bucket', 'maxFileSize', 'overwrite', 'expiresIn'],
      },
    )
    fc.assert(
      fc.property(token, (claims) => {
        const sealed = sealer.seal(claims)
        expect(sealer.open(sealed, 1_000)).toEqual(claims)
        // The payload is JSON as JSON.stringify writes it: no other text for the same claims.
        const json = Buffer.from(sealed.split('.')[1]!, 'base64url').toString('utf8')
        expect(JSON.stringify(JSON.parse(json))).toBe(json)
      }),
      { numRuns: 500 },
    )
  })

  it('refuses a token with any one character changed', () => {
    const token = sealer.seal(claims)
    // Every position but the last, whose low bits base64url leaves unused (a change there may decode to the same bytes).
    for (let i = 0; i < token.length - 1; i++) {
      const changed = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`
      expect(() => sealer.open(changed, 1_000), `character ${i} changed`).toThrow(/not valid/)
    }
  })

  it.each([undefined, 42, '', 'x', 'v1.e30', 'v1.e30.', 'v2.e30.AAAA', 'a'.repeat(10_000)])('refuses the malformed token %j', (token) => {
    expect(() => sealer.open(token, 1_000)).toThrowError(PresignError)
  })

  it('refuses a truncated token', () => {
    const token = sealer.seal(claims)
    expect(() => sealer.open(token.slice(0, -1), 1_000)).toThrow(/not valid/)
  })

  it('accepts one spelling of a token only: padding, stray characters or other unused bits are refused', () => {
    const token = sealer.seal(claims)
    const last = token.at(-1)!
    // The last base64url character carries 2 unused bits: its neighbours in the alphabet decode to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = alphabet[(alphabet.indexOf(last) & ~3) + ((alphabet.indexOf(last) + 1) & 3)]!
    for (const variant of [
      `${token}=`,
      `${token.slice(0, -1)}!${last}`,
      `${token.slice(0, -1)}${sibling}`,
      `${token.slice(0, 60)} ${token.slice(60)}`,
    ]) {
      expect(() => sealer.open(variant, 1_000)).toThrow(/not valid/)
    }
  })

  it('refuses an expired token with token_expired', () => {
    const error = (() => {
      try {
        sealer.open(sealer.seal({ ...claims, expiresAt: 999 }), 1_000)
      } catch (e) {
        return e
      }
    })()
    expect(isPresignError(error) && error.code).toBe('token_expired')
  })

  it('refuses a token sealed with another secret', () => {
    const other = createTokenSealer(['other-secret-0123456789'])
    expect(() => sealer.open(other.seal(claims), 1_000)).toThrow(/not valid/)
  })

  it('signs with the first secret and accepts every listed one (rotation)', () => {
    const old = createTokenSealer(['old-secret-0123456789'])
    const rotated = createTokenSealer(['new-secret-0123456789', 'old-secret-0123456789'])
    expect(rotated.open(old.seal(claims), 1_000)).toEqual(claims)
    expect(() => old.open(rotated.seal(claims), 1_000)).toThrow(/not valid/)
  })
})

describe('file names and keys', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\photo.png', 'photo.png'],
    ['evil\u202Egpj.exe', 'evilgpj.exe'],
    ['a\u0000b.txt', 'ab.txt'],
    ['..', 'file'],
    ['.hidden', 'hidden'],
    ['   ', 'file'],
    ['what?#[x].txt', 'what___x_.txt'],
    ['e\u0301te\u0301.jpg', 'été.jpg'],
    ['tab\there.txt', 'tab here.txt'],
  ])('sanitizes %j to %j', (input, expected) => {
    expect(sanitizeFilename(input)).toBe(expected)
  })

  // sanitizeFilename returns plain names (ASCII words between single spaces) as they are: the
  // whole sanitizing would too.
  it('takes its shortcut only for names the whole sanitizing leaves as they are', () => {
    const plainish = fc.string({ unit: fc.constantFrom(...'aZ09_-.() ./\\\t:?*é'.split('')), maxLength: 300 })
    fc.assert(
      fc.property(fc.oneof(plainish, fc.string({ unit: 'binary', maxLength: 300 })), (name) => {
        fc.pre(name.isWellFormed())
        expect(sanitizeFilename(name)).toBe(sanitizeAnyFilename(name))
      }),
      { numRuns: 3000 },
    )
  })

  it('cuts long names to 255 UTF-8 bytes, keeping the extension and whole characters', () => {
    const name = sanitizeFilename(`${'é'.repeat(300)}.jpeg`)
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255)
    expect(name.endsWith('.jpeg')).toBe(true)
    expect(name).not.toContain('\uFFFD')
  })

  it('default keys are a uuid folder with the sanitized name under the prefix', () => {
    expect(defaultKey('uploads/', 'a b.png')).toMatch(/^uploads\/[0-9a-f-]{36}\/a b\.png$/)
  })

  it.each([
    ['a/../b', /segments/],
    ['./a', /segments/],
    ['/abs', /start/],
    ['a\nb', /control/],
    ['x'.repeat(1025), /1024/],
    ['é'.repeat(513), /1024/],
    ['\uD800', /Unicode/],
    ['', /non-empty/],
    ['users/1/$' + '{filename}', /filename/],
  ])('refuses the key %j', (key, reason) => {
    expect(keyProblem(key)).toMatch(reason)
    expect(() => assertValidKey(key)).toThrowError(PresignError)
  })

  it.each(['a', 'a/b/c.png', 'a..b/c', 'spaces are fine.txt', 'x'.repeat(1024), 'ünïcödé/ok'])('accepts the key %j', (key) => {
    expect(keyProblem(key)).toBeUndefined()
  })

  // keyProblem takes shortcuts for printable ASCII and for keys without a `.` segment: it must
  // judge every key as the plain reading of its rules does.
  it('judges every key as the rules read plainly', () => {
    const rules = (key: string): string | undefined => {
      if (key.length === 0) return 'must be a non-empty string'
      if (!key.isWellFormed()) return 'must be valid Unicode'
      if (Buffer.byteLength(key) > 1024) return 'must be at most 1024 UTF-8 bytes'
      if (key.startsWith('/')) return 'must not start with "/"'
      if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) return 'must not contain control characters'
      if (key.split('/').some((segment) => segment === '..' || segment === '.')) return 'must not contain "." or ".." segments'
      if (key.includes('$' + '{filename}')) return 'must not contain "$' + '{filename}"'
      return undefined
    }
    const unit = fc.constantFrom(...'a./\u0001\u007f\u0085 é$'.split(''), '$' + '{filename}', '\uD800', '😀')
    const key = fc.oneof(
      fc.string({ unit, maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.string({ unit, minLength: 1020, maxLength: 1030 }),
    )
    fc.assert(
      fc.property(key, (key) => {
        expect(keyProblem(key)).toBe(rules(key))
      }),
      { numRuns: 5000 },
    )
  })

  it('matches content types with wildcards on the essence only', () => {
    const allowed = contentTypeMatcher(['image/*', 'application/pdf'])
    expect(allowed('image/png')).toBe(true)
    expect(allowed('IMAGE/JPEG; q=1')).toBe(true)
    expect(allowed('application/pdf')).toBe(true)
    expect(allowed('application/pdfx')).toBe(false)
    expect(allowed('text/html')).toBe(false)
  })

  // A tab is signed as a space (SigV4 canonical form), so the browser's header would never match.
  it.each(['text/plain;\tcharset=utf-8', 'application/unknown\t;a=b'])('refuses the content type %j', (contentType) => {
    expect(isContentType(contentType)).toBe(false)
    expect(isContentType(contentType.replace('\t', ' '))).toBe(true)
  })

  // Browsers sniff "unknown" types as if there were none, and HTML runs: no wildcard admits them.
  it.each(['application/unknown', 'unknown/unknown', 'Application/Unknown', 'application/x-unknown-content-type', 'application/x-unknown'])(
    'admits %s only when it is listed exactly',
    (contentType) => {
      expect(contentTypeMatcher(['application/*', 'unknown/*'])(contentType)).toBe(false)
      expect(contentTypeMatcher(['*/*'])(contentType)).toBe(false)
      expect(contentTypeMatcher([contentType.toLowerCase()])(contentType)).toBe(true)
    },
  )
})

describe('options, checked at start-up', () => {
  const valid: PresignOptions = { bucket: 'b', secret: 's'.repeat(32), authorize: () => true, region: 'us-east-1' }

  it.each([
    ['no bucket', { bucket: undefined }, /`bucket` is required/],
    ['no secret', { secret: undefined }, /`secret` is required.*PRESIGN_SECRET/],
    ['a short secret', { secret: 'short' }, /at least 16/],
    ['no authorize', { authorize: undefined }, /`authorize` is required/],
    ['expiresIn over 7 days', { expiresIn: 604_801 }, /`expiresIn`.*7 days/],
    ['a part size under 5 MiB', { multipart: { partSize: 1024 } }, /partSize/],
    ['a threshold over 5 GiB', { multipart: { threshold: 6 * 1024 ** 3 } }, /threshold/],
    ['a negative maxFileSize', { maxFileSize: -1 }, /maxFileSize/],
    ['a keyPrefix with ..', { keyPrefix: '../x' }, /keyPrefix/],
    ['bad allowedContentTypes', { allowedContentTypes: ['png'] }, /allowedContentTypes/],
  ])('throws a prefixed, actionable error for %s', (_name, change, message) => {
    expect(() => createPresigner({ ...valid, ...change } as PresignOptions)).toThrow(message)
    expect(() => createPresigner({ ...valid, ...change } as PresignOptions)).toThrow(/^\[s3-presign-middleware\] /)
  })

  it('accepts a minimal configuration', () => {
    expect(() => createPresigner(valid)).not.toThrow()
  })
})

describe('the core without HTTP', () => {
  const presigner = createPresigner<{ user: string }>({
    bucket: 'my-bucket',
    region: 'eu-west-1',
    s3: { credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' } },
    secret: 's'.repeat(32),
    authorize: ({ request }) => ({ id: request.user }),
    keyPrefix: 'in',
    expiresIn: 60,
  })

  it('create signs a virtual-hosted AWS URL for the key under keyPrefix', async () => {
    const res = await presigner.create({ filename: 'x.txt', contentType: 'text/plain', size: 3 }, { user: 'u' })
    if (res.strategy !== 'single') throw new Error('expected single')
    const url = new URL(res.url)
    expect(url.hostname).toBe('my-bucket.s3.eu-west-1.amazonaws.com')
    expect(res.key).toMatch(/^in\/[0-9a-f-]{36}\/x\.txt$/)
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60')
  })

  it('throws PresignErrors the caller can map', async () => {
    await expect(presigner.create({ filename: 'x', size: -5 }, { user: 'u' })).rejects.toSatisfy(isPresignError)
  })

  it('names the identity id when it is what makes the metadata too long (the object tag carries it)', async () => {
    const long = createPresigner<{ user: string }>({
      bucket: 'my-bucket',
      region: 'eu-west-1',
      s3: { credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' } },
      secret: 's'.repeat(32),
      authorize: () => ({ id: 'x'.repeat(3000) }),
    })
    await expect(long.create({ filename: 'x.txt', contentType: 'text/plain', size: 3 }, { user: 'u' })).rejects.toThrow(/identity id/)
  })

  // An id is sealed into tokens as it is and into object tags as UTF-8: a lone surrogate would be
  // U+FFFD in the tag, so `bob\uD800`'s files would be `bob\uFFFD`'s to delete.
  it.each([{ id: '' }, { id: Number.NaN }, { id: 'bob\uD800' }, { id: '\uDFFFbob' }, {}, 'bob'])(
    'takes the identity %j from authorize as a programming error (TypeError)',
    async (identity) => {
      const strict = createPresigner<{ user: string }>({
        bucket: 'my-bucket',
        region: 'eu-west-1',
        s3: { credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' } },
        secret: 's'.repeat(32),
        authorize: () => identity as { id: string },
      })
      await expect(strict.create({ filename: 'x.txt', contentType: 'text/plain', size: 3 }, { user: 'u' })).rejects.toThrow(TypeError)
    },
  )
})
