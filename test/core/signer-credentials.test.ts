import { S3Client } from '@aws-sdk/client-s3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSigner } from '../../src/core/signing/signer'

/**
 * The signer signs without asking the SDK for credentials for at most a second, and never while
 * the SDK could have replaced them (signer.ts `ready`): not within 6 minutes of their expiry (the
 * SDK refreshes at 5). So a refresh the app forces (a revoked key) is in URLs within a second.
 */

const T0 = Date.UTC(2026, 10, 29, 12)

function signerWith(provider: () => Promise<{ accessKeyId: string; secretAccessKey: string; expiration?: Date }>) {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: provider,
  })
  // Count what the signer asks of the SDK's (memoizing) provider. Defined, not assigned: the SDK's
  // setter would memoize the counter itself.
  const sdkProvider = client.config.credentials
  let asked = 0
  Object.defineProperty(client.config, 'credentials', {
    value: async (...args: Parameters<typeof sdkProvider>) => {
      asked++
      return sdkProvider(...args)
    },
  })
  return { signer: createSigner('bucket', client), asked: () => asked }
}

const accessKeyOf = (url: string) => decodeURIComponent(new URL(url).searchParams.get('X-Amz-Credential')!).split('/')[0]
const put = (signer: ReturnType<typeof createSigner>) =>
  Promise.resolve(signer.putObject({ key: 'a.png', contentType: 'image/png', size: 1, ifNoneMatch: true, metadata: {} }, 60)).then(
    (signed) => accessKeyOf(signed.url),
  )

afterEach(() => {
  vi.useRealTimers()
})

describe('credentials on the signing path', () => {
  it('asks for credentials without an expiry once a second, and signs synchronously in between', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    const { signer, asked } = signerWith(async () => ({ accessKeyId: 'AKIASTATIC', secretAccessKey: 's' }))
    expect(await put(signer)).toBe('AKIASTATIC')
    // The first URL also resolves the endpoint (the SDK presigns a probe, asking for credentials itself).
    const first = asked()
    const signed = signer.putObject({ key: 'b.png', contentType: 'image/png', size: 1, ifNoneMatch: true, metadata: {} }, 60)
    expect(signed).not.toBeInstanceOf(Promise)
    for (let i = 0; i < 5; i++) expect(await put(signer)).toBe('AKIASTATIC')
    expect(asked()).toBe(first)
    vi.setSystemTime(T0 + 1001)
    expect(await put(signer)).toBe('AKIASTATIC')
    expect(asked()).toBe(first + 1)
  })

  it('signs with the key a forced refresh brought within a second (a revoked key)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    let generation = 1
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: async () => ({ accessKeyId: `AKIAKEY${generation}`, secretAccessKey: 's' }),
    })
    const signer = createSigner('bucket', client)
    expect(await put(signer)).toBe('AKIAKEY1')
    generation = 2
    await client.config.credentials({ forceRefresh: true })
    vi.setSystemTime(T0 + 1001)
    expect(await put(signer)).toBe('AKIAKEY2')
  })

  it('asks for every URL from 6 minutes before expiry, and signs with the refreshed credentials', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    let generation = 0
    const { signer, asked } = signerWith(async () => {
      generation++
      return { accessKeyId: `AKIAGEN${generation}`, secretAccessKey: 's', expiration: new Date(Date.now() + 3_600_000) }
    })
    expect(await put(signer)).toBe('AKIAGEN1')
    const first = asked()
    vi.setSystemTime(T0 + 53 * 60_000) // 7 minutes before expiry: asked (a second passed), still the same
    expect(await put(signer)).toBe('AKIAGEN1')
    expect(await put(signer)).toBe('AKIAGEN1')
    expect(asked()).toBe(first + 1)
    vi.setSystemTime(T0 + 54 * 60_000 + 1) // under 6 minutes: every URL asks (the SDK still has GEN1 until 5 minutes)
    expect(await put(signer)).toBe('AKIAGEN1')
    expect(await put(signer)).toBe('AKIAGEN1')
    expect(asked()).toBe(first + 3)
    vi.setSystemTime(T0 + 55 * 60_000 + 1) // under 5 minutes: the SDK refreshes, and the URL carries the new key
    expect(await put(signer)).toBe('AKIAGEN2')
    expect(asked()).toBe(first + 4)
    expect(await put(signer)).toBe('AKIAGEN2')
    expect(asked()).toBe(first + 4)
  })

  it('asks on every URL when the credentials expire within 6 minutes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    const { signer, asked } = signerWith(async () => ({
      accessKeyId: 'AKIASHORT',
      secretAccessKey: 's',
      expiration: new Date(T0 + 4 * 60_000),
    }))
    await put(signer)
    const first = asked()
    for (let i = 0; i < 3; i++) await put(signer)
    expect(asked()).toBe(first + 3)
  })
})
