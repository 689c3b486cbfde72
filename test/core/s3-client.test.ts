import { createRequire } from 'node:module'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPresigner } from '../../src/index'

/**
 * SPEC §3 `s3`: the app's own `S3Client`, from whatever copy or version of `@aws-sdk/client-s3`
 * the app has, is used as it is: recognised by its shape (an `instanceof` check against our copy
 * would fail and fall back to the environment's region and credentials).
 */

// Another copy of the SDK, at another version: the one @uppy/companion brings along (3.986.x here,
// where the package's own is 3.117x), standing in for an app's own SDK.
const companion = createRequire(import.meta.url).resolve('@uppy/companion/package.json')
const otherSdk = createRequire(companion)('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')
const otherVersion = createRequire(companion)('@aws-sdk/client-s3/package.json').version as string

describe('an S3Client from another copy of the SDK', () => {
  afterEach(() => vi.unstubAllEnvs())

  it('is another class than ours, of another version', async () => {
    const ours = await import('@aws-sdk/client-s3')
    expect(otherSdk.S3Client).not.toBe(ours.S3Client)
    expect(otherVersion).not.toBe((await import('@aws-sdk/client-s3/package.json', { with: { type: 'json' } })).default.version)
  })

  it("signs with that client's endpoint, region and credentials, not the environment's", async () => {
    // The environment points elsewhere: a client replaced by a default one would sign with these.
    vi.stubEnv('AWS_REGION', 'eu-central-1')
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFROMTHEENVIRONMENT')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'environment-secret')
    const client = new otherSdk.S3Client({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      region: 'ap-southeast-2',
      credentials: { accessKeyId: 'AKIAAPPSOWNCLIENT001', secretAccessKey: 'app-secret' },
    })
    const presigner = createPresigner({
      bucket: 'app-bucket',
      s3: client as never,
      secret: 'another-sdk-secret-0123456789',
      authorize: () => true,
    })
    const created = await presigner.create({ filename: 'a.png', contentType: 'image/png', size: 10 }, undefined)
    if (created.strategy !== 'single') throw new Error('expected a single upload')
    const url = new URL(created.url)
    expect(url.host).toBe('127.0.0.1:9000')
    expect(url.pathname.startsWith('/app-bucket/')).toBe(true)
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIAAPPSOWNCLIENT001\/\d{8}\/ap-southeast-2\/s3\/aws4_request$/)
  })
})
