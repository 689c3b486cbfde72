import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type CORSRule,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/index'
import { describeBrowser, launchBrowser } from '../helpers/browser'
import { RGW_ENDPOINT, RGW_REGION, type TestBucket, createTestBucket, describeRgw, putRaw, rgwClientConfig } from '../helpers/rgw'

/**
 * `s3-presign-middleware doctor` as a user runs it (the CLI's `main` with argv, output captured)
 * against a fresh bucket on Ceph RGW 16 per test. RGW is the store that punishes a careless
 * doctor: `BlockPublicAcls` refuses every upload, unsigned `x-amz-*` headers are applied, and the
 * first CORS rule matching an origin decides alone.
 */

const APP = 'http://app.test'
const ADMIN = 'https://admin.test'
const UPLOAD_HEADERS = 'content-type,if-none-match,x-amz-meta-presign-nonce,x-amz-checksum-sha256'

const CREDENTIALS = rgwClientConfig().credentials as { accessKeyId: string; secretAccessKey: string }

/** The environment of a user with only the RGW keys: no profile, no instance metadata (no network beyond loopback). */
function stubAwsEnv(overrides: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    S3_ENDPOINT: undefined,
    ...overrides,
  }
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; lines: string[] }> {
  const lines: string[] = []
  const code = await main(argv, (l) => lines.push(...l.split('\n')))
  return { code, out: lines.join('\n'), lines }
}

async function preflight(bucket: string, origin: string, method: string, headers?: string) {
  const res = await fetch(`${RGW_ENDPOINT}/${bucket}/some-key`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, ...(headers ? { 'access-control-request-headers': headers } : {}) },
  })
  return {
    status: res.status,
    allowOrigin: res.headers.get('access-control-allow-origin'),
    expose: res.headers.get('access-control-expose-headers') ?? '',
  }
}

async function corsRules(client: S3Client, bucket: string): Promise<CORSRule[]> {
  return (await client.send(new GetBucketCorsCommand({ Bucket: bucket })).catch(() => ({ CORSRules: [] }))).CORSRules ?? []
}

async function lifecycleRules(client: S3Client, bucket: string): Promise<LifecycleRule[]> {
  return (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })).catch(() => ({ Rules: [] }))).Rules ?? []
}

async function publicAccess(client: S3Client, bucket: string) {
  return (await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration
}

/** What the bucket's owner could change, to show a run changed nothing. */
async function configuration(client: S3Client, bucket: string) {
  return {
    cors: await corsRules(client, bucket),
    lifecycle: await lifecycleRules(client, bucket),
    publicAccess: await publicAccess(client, bucket),
  }
}

async function objectKeys(client: S3Client, bucket: string): Promise<string[]> {
  return ((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!)
}

/** A presigned PUT signing type and `If-None-Match: *`, as the middleware signs uploads. */
async function presignedPut(client: S3Client, bucket: string, key: string) {
  const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: 'text/plain', IfNoneMatch: '*' }), {
    expiresIn: 300,
    signableHeaders: new Set(['content-type', 'if-none-match']),
  })
  return { url, headers: { 'content-type': 'text/plain', 'if-none-match': '*' } }
}

describeRgw('the bucket doctor on RGW (SPEC §6)', () => {
  let t: TestBucket
  /** `doctor --bucket <fresh bucket> --endpoint <RGW> --region us-east-1 ...` */
  const doctor = (...args: string[]) => cli('doctor', '--bucket', t.bucket, '--endpoint', RGW_ENDPOINT, '--region', RGW_REGION, ...args)

  beforeEach(async () => {
    stubAwsEnv()
    // createTestBucket opens CORS to every origin; the doctor starts from a bare bucket.
    t = await createTestBucket('doctor')
    await t.client.send(new DeleteBucketCorsCommand({ Bucket: t.bucket }))
  })
  afterEach(async () => {
    vi.unstubAllEnvs()
    await t.cleanup()
  })

  it('reports what a bare bucket lacks, proves it with real requests, changes nothing, and exits 1', async () => {
    const before = await configuration(t.client, t.bucket)
    const { code, out } = await doctor('--origin', APP)
    console.log(`[doctor, bare bucket]\n${out}`)
    expect(code).toBe(1)
    expect(out).toMatch(/✗ CORS: no CORS rule allows the origin http:\/\/app\.test/)
    expect(out).toMatch(/✗ No lifecycle rule aborts incomplete multipart uploads/)
    expect(out).toMatch(/✗ Public access: IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets are off/)
    expect(out).toMatch(/✗ Browsers on http:\/\/app\.test cannot upload: the preflight of a PUT from http:\/\/app\.test was refused \(403/)
    // RGW applies an unsigned x-amz-acl and serves the object to anyone: the doctor saw it happen.
    expect(out).toMatch(
      /✗ An uploader who adds an unsigned x-amz-acl: public-read to a presigned PUT gets a publicly readable object \(anonymous GET 200\)/,
    )
    expect(await configuration(t.client, t.bucket)).toEqual(before)
    expect(await objectKeys(t.client, t.bucket)).toEqual([])
  })

  it("--fix keeps an admin origin's rule and a public GET rule, adds a rule for --origin only, and a second --fix changes nothing", async () => {
    const admin: CORSRule = {
      ID: 'admin',
      AllowedOrigins: [ADMIN],
      AllowedMethods: ['GET', 'DELETE'],
      AllowedHeaders: ['Authorization'],
      ExposeHeaders: ['x-amz-version-id'],
      MaxAgeSeconds: 60,
    }
    const publicGet: CORSRule = { ID: 'public-get', AllowedOrigins: ['*'], AllowedMethods: ['GET'] }
    await t.client.send(new PutBucketCorsCommand({ Bucket: t.bucket, CORSConfiguration: { CORSRules: [admin, publicGet] } }))

    const fixed = await doctor('--origin', APP, '--fix')
    console.log(`[doctor --fix, admin + public GET rules]\n${fixed.out}`)
    expect(fixed.code).toBe(0)
    const rules = await corsRules(t.client, t.bucket)
    console.log(`[CORS after --fix] ${JSON.stringify(rules)}`)
    expect(rules).toContainEqual(admin)
    expect(rules).toContainEqual(publicGet)
    expect(rules).toHaveLength(3)
    const ours = rules.find((r) => r.ID === `s3-presign-middleware ${APP}`)!
    expect(ours.AllowedOrigins).toEqual([APP])
    expect(ours.AllowedMethods).toEqual(expect.arrayContaining(['PUT', 'POST', 'GET', 'HEAD']))
    expect(ours.AllowedHeaders).toEqual(expect.arrayContaining(['content-type', 'if-none-match', 'x-amz-meta-*', 'x-amz-checksum-sha256']))
    expect(ours.ExposeHeaders).toEqual(expect.arrayContaining(['ETag', 'Location']))
    // RGW lets the first rule matching an origin decide alone: ours must come before the public rule.
    expect(rules.indexOf(ours)).toBeLessThan(rules.findIndex((r) => r.ID === 'public-get'))
    expect(rules.filter((r) => r.AllowedOrigins?.includes('*'))).toEqual([publicGet])

    // Everyone keeps what they had; the app's origin gains uploads; no other origin gains anything.
    expect((await preflight(t.bucket, ADMIN, 'DELETE', 'authorization')).status).toBe(200)
    expect((await preflight(t.bucket, 'http://elsewhere.test', 'GET')).status).toBe(200)
    expect((await preflight(t.bucket, APP, 'GET')).status).toBe(200)
    const app = await preflight(t.bucket, APP, 'PUT', UPLOAD_HEADERS)
    expect(app).toMatchObject({ status: 200, allowOrigin: APP })
    expect(app.expose).toMatch(/ETag/)
    expect((await preflight(t.bucket, 'http://elsewhere.test', 'PUT', 'content-type')).status).toBe(403)
    expect(fixed.out).toMatch(/✓ CORS: the first rule matching http:\/\/app\.test \(the one for \*\) does not allow PUT, POST, HEAD/)

    const after = await configuration(t.client, t.bucket)
    const again = await doctor('--origin', APP, '--fix')
    console.log(`[second doctor --fix]\n${again.out}`)
    expect(again.code).toBe(0)
    expect(again.out).toMatch(/✓ CORS allows http:\/\/app\.test to upload/)
    expect(again.out).toMatch(/✓ A lifecycle rule aborts incomplete multipart uploads/)
    expect(again.out).toMatch(/✓ Public access: IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets are on/)
    expect(again.out).not.toMatch(/✗/)
    expect(await configuration(t.client, t.bucket)).toEqual(after)
  })

  it('--fix extends the rule --origin already has: its DELETE and Authorization stay allowed', async () => {
    const admin: CORSRule = {
      ID: 'admin',
      AllowedOrigins: [APP],
      AllowedMethods: ['GET', 'DELETE'],
      AllowedHeaders: ['Authorization'],
      MaxAgeSeconds: 60,
    }
    await t.client.send(new PutBucketCorsCommand({ Bucket: t.bucket, CORSConfiguration: { CORSRules: [admin] } }))
    const fixed = await doctor('--origin', APP, '--fix')
    console.log(`[doctor --fix, the origin's own rule]\n${fixed.out}`)
    expect(fixed.code).toBe(0)
    const rules = await corsRules(t.client, t.bucket)
    expect(rules).toHaveLength(1)
    expect(rules[0]).toMatchObject({ ID: 'admin', AllowedOrigins: [APP], MaxAgeSeconds: 60 })
    expect(rules[0]!.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'DELETE', 'PUT', 'POST', 'HEAD']))
    expect(rules[0]!.AllowedHeaders).toEqual(expect.arrayContaining(['Authorization', 'content-type', 'if-none-match', 'x-amz-meta-*']))
    expect((await preflight(t.bucket, APP, 'DELETE', 'authorization')).status).toBe(200)
    expect((await preflight(t.bucket, APP, 'PUT', UPLOAD_HEADERS)).status).toBe(200)
    expect(fixed.out).toMatch(/Extended the rule for http:\/\/app\.test \("admin"\)/)
  })

  it('refuses --fix without --origin (exit 2, a sentence naming the fix) and never writes AllowedOrigins "*"', async () => {
    const before = await configuration(t.client, t.bucket)
    const bare = await doctor('--fix')
    console.log(`[doctor --fix without --origin] exit ${bare.code}\n${bare.out}`)
    expect(bare.code).toBe(2)
    expect(bare.lines).toHaveLength(1)
    expect(bare.out).toMatch(/^--fix needs --origin .*e\.g\. --origin https:\/\/app\.example\.com.*never for every origin \(\*\)\.$/)
    const star = await doctor('--origin', '*', '--fix')
    console.log(`[doctor --origin '*' --fix] exit ${star.code}\n${star.out}`)
    expect(star.code).toBe(2)
    expect(star.out).toMatch(/--origin must be your app's exact origin/)
    expect(await configuration(t.client, t.bucket)).toEqual(before)
    expect((await preflight(t.bucket, 'http://anyone.test', 'PUT', 'content-type')).status).toBe(403)
  })

  it('--fix never turns on BlockPublicAcls: uploads still work, and an unsigned x-amz-acl: public-read gives no public object', async () => {
    const fixed = await doctor('--origin', APP, '--fix')
    console.log(`[doctor --fix, public access]\n${fixed.out}`)
    expect(await publicAccess(t.client, t.bucket)).toEqual({
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    })
    // The same, seen by the test itself rather than by the doctor's word.
    const upload = await presignedPut(t.client, t.bucket, 'mine.txt')
    expect((await putRaw(upload.url, { headers: { ...upload.headers, origin: APP }, body: 'mine' })).status).toBe(200)
    const attack = await presignedPut(t.client, t.bucket, 'attack.txt')
    expect((await putRaw(attack.url, { headers: { ...attack.headers, 'x-amz-acl': 'public-read' }, body: 'for everyone' })).status).toBe(
      200,
    )
    expect((await fetch(`${RGW_ENDPOINT}/${t.bucket}/attack.txt`)).status).toBe(403)
    const download = await getSignedUrl(t.client, new GetObjectCommand({ Bucket: t.bucket, Key: 'mine.txt' }), { expiresIn: 60 })
    expect(await (await fetch(download)).text()).toBe('mine')
    expect((await objectKeys(t.client, t.bucket)).sort()).toEqual(['attack.txt', 'mine.txt'])
    // And the doctor said so, having proven it with its own probe objects (gone since).
    expect(fixed.code).toBe(0)
    expect(fixed.out).toMatch(
      /✓ Public access: turned on IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets; uploads still work\. BlockPublicAcls was left off\./,
    )
    expect(fixed.out).toMatch(
      /✓ Uploads work: a presigned PUT, GET and DELETE of a probe object succeeded, and a browser on http:\/\/app\.test may send them/,
    )
    expect(fixed.out).toMatch(
      /✓ An uploader who adds an unsigned x-amz-acl: public-read to a presigned PUT does not get a public object \(anonymous GET 403/,
    )
  })

  it('keeps a BlockPublicAcls the owner set, and says loudly that on this store it refuses every upload (exit 1)', async () => {
    await t.client.send(new PutPublicAccessBlockCommand({ Bucket: t.bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }))
    const fixed = await doctor('--origin', APP, '--fix')
    console.log(`[doctor --fix, BlockPublicAcls already on]\n${fixed.out}`)
    expect(fixed.code).toBe(1)
    expect(fixed.out).toMatch(
      /✗ UPLOADS FAIL: a presigned PUT, GET and DELETE of a probe object did not work: the presigned PUT was refused \(403 AccessDenied\)\. BlockPublicAcls is on/,
    )
    expect(await publicAccess(t.client, t.bucket)).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    })
    expect(await objectKeys(t.client, t.bucket)).toEqual([])
  })

  it('does not count a rule that aborts multipart uploads under one prefix only, and adds one for the whole bucket', async () => {
    const prefixOnly: LifecycleRule = {
      ID: 'abort-in-tmp',
      Status: 'Enabled',
      Filter: { Prefix: 'tmp/' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    }
    await t.client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: t.bucket, LifecycleConfiguration: { Rules: [prefixOnly] } }))
    const check = await doctor('--origin', APP)
    console.log(`[doctor, abort rule for tmp/ only]\n${check.out}`)
    expect(check.out).toMatch(/✗ No lifecycle rule aborts incomplete multipart uploads in the whole bucket/)
    await doctor('--origin', APP, '--fix')
    const after = await lifecycleRules(t.client, t.bucket)
    expect(after).toHaveLength(2)
    expect(after.find((r) => r.ID === 's3-presign-middleware-abort-incomplete-multipart')).toMatchObject({
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
    })
  })

  it('merges its abort-incomplete-multipart rule into the lifecycle rules, keeping every other rule, once', async () => {
    const rules: LifecycleRule[] = [
      { ID: 'expire-tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } },
      {
        ID: 'expire-tagged',
        Status: 'Enabled',
        Filter: { And: { Prefix: 'a/', Tags: [{ Key: 'kind', Value: 'draft' }] } },
        Expiration: { Days: 30 },
      },
    ]
    await t.client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: t.bucket, LifecycleConfiguration: { Rules: rules } }))
    const before = await lifecycleRules(t.client, t.bucket)
    const fixed = await doctor('--origin', APP, '--fix')
    console.log(`[doctor --fix, existing lifecycle rules]\n${fixed.out}`)
    const after = await lifecycleRules(t.client, t.bucket)
    console.log(`[lifecycle after --fix] ${JSON.stringify(after)}`)
    for (const rule of before) expect(after).toContainEqual(rule)
    expect(after).toHaveLength(3)
    expect(after.find((r) => r.ID === 's3-presign-middleware-abort-incomplete-multipart')).toMatchObject({
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
    })
    expect(fixed.out).toMatch(
      /✓ Added lifecycle rules: one aborting incomplete multipart uploads after 2 days, keeping the 2 other rules\./,
    )
    await doctor('--origin', APP, '--fix')
    expect(await lifecycleRules(t.client, t.bucket)).toEqual(after)
  })

  it('warns that this store applies unsigned x-amz-* headers on presigned requests, names uploadCredentials as the fix, and leaves no probe object', async () => {
    const { code, out } = await doctor('--origin', APP, '--fix')
    console.log(`[doctor --fix, unsigned headers]\n${out}`)
    expect(code).toBe(0)
    expect(out).toMatch(
      /! The store accepts unsigned x-amz-\* headers on presigned requests \(a PUT with an unsigned x-amz-meta-probe got 200\)/,
    )
    expect(out).toMatch(/x-amz-copy-source/)
    expect(out).toMatch(/the uploadCredentials option/)
    // What the warning claims, checked here: RGW stores a header nobody signed.
    const probe = await presignedPut(t.client, t.bucket, 'unsigned.txt')
    expect((await putRaw(probe.url, { headers: { ...probe.headers, 'x-amz-meta-smuggled': 'yes' }, body: 'x' })).status).toBe(200)
    const stored = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: 'unsigned.txt' }))
    await stored.Body?.transformToString()
    expect(stored.Metadata).toMatchObject({ smuggled: 'yes' })
    expect(await objectKeys(t.client, t.bucket)).toEqual(['unsigned.txt'])
  })

  it('names the fix in one sentence for a bucket that does not exist (exit 1)', async () => {
    const { code, lines } = await cli(
      'doctor',
      '--bucket',
      `${t.bucket}-missing`,
      '--endpoint',
      RGW_ENDPOINT,
      '--region',
      RGW_REGION,
      '--origin',
      APP,
    )
    expect({ code, lines }).toEqual({
      code: 1,
      lines: [`The bucket "${t.bucket}-missing" does not exist at ${RGW_ENDPOINT}: check --bucket, --region and --endpoint.`],
    })
  })
})

describe("the doctor's usage errors", () => {
  beforeEach(() => stubAwsEnv())
  afterEach(() => vi.unstubAllEnvs())

  it('prints its usage for --help and exits 0', async () => {
    for (const argv of [['doctor', '--help'], ['doctor', '-h'], ['--help'], []]) {
      const { code, out } = await cli(...argv)
      expect({ argv, code }).toEqual({ argv, code: 0 })
      expect(out).toMatch(/^Usage: s3-presign-middleware doctor --bucket <name> \[--origin <url>\] \[--fix\]/)
      expect(out).toMatch(/never writes "\*"/)
    }
  })

  it('names the fix in one sentence when --bucket is missing (exit 2)', async () => {
    const { code, lines } = await cli('doctor', '--origin', APP)
    expect(code).toBe(2)
    expect(lines[0]).toBe('--bucket is required: name the bucket uploads go to, e.g. --bucket my-uploads.')
  })

  it('names the fix in one sentence when no region is known (exit 2)', async () => {
    const { code, lines } = await cli('doctor', '--bucket', 'b', '--endpoint', RGW_ENDPOINT)
    expect({ code, lines }).toEqual({
      code: 2,
      lines: ['No region: pass --region (e.g. --region eu-west-1) or set AWS_REGION; S3-compatible stores usually accept us-east-1.'],
    })
  })

  it('names the fix in one sentence when no credentials are found (exit 2)', async () => {
    stubAwsEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined })
    const { code, lines } = await cli('doctor', '--bucket', 'b', '--endpoint', RGW_ENDPOINT, '--region', RGW_REGION)
    expect({ code, lines }).toEqual({
      code: 2,
      lines: [
        'No AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment, as for the AWS CLI.',
      ],
    })
  })

  it('refuses an --origin that is not an exact origin (exit 2)', async () => {
    for (const origin of ['https://*.example.com', 'app.example.com', 'https://app.example.com/path', 'ftp://app.example.com']) {
      const { code, out } = await cli('doctor', '--bucket', 'b', '--origin', origin)
      expect({ origin, code }).toEqual({ origin, code: 2 })
      expect(out).toMatch(/^--origin must be your app's exact origin/)
    }
  })
})

describeRgw("the doctor's promise, in Chromium", () => {
  describeBrowser('a page on --origin after --fix', () => {
    let t: TestBucket
    let page: Server
    let origin: string
    beforeAll(async () => {
      stubAwsEnv()
      t = await createTestBucket('doctor-browser')
      await t.client.send(new DeleteBucketCorsCommand({ Bucket: t.bucket }))
      page = createServer((_req, res) => res.end('<!doctype html><title>app</title>'))
      await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
      origin = `http://localhost:${(page.address() as AddressInfo).port}`
    })
    afterAll(async () => {
      vi.unstubAllEnvs()
      await new Promise((resolve) => page.close(resolve))
      await t.cleanup()
    })

    it('uploads with a presigned PUT carrying the signed headers, reads its ETag, and downloads it', async () => {
      const { code, out } = await cli(
        'doctor',
        '--bucket',
        t.bucket,
        '--endpoint',
        RGW_ENDPOINT,
        '--region',
        RGW_REGION,
        '--origin',
        origin,
        '--fix',
      )
      console.log(`[doctor --fix for ${origin}]\n${out}`)
      expect(code).toBe(0)
      const upload = await presignedPut(t.client, t.bucket, 'from-browser.txt')
      const download = await getSignedUrl(t.client, new GetObjectCommand({ Bucket: t.bucket, Key: 'from-browser.txt' }), { expiresIn: 60 })
      const browser = await launchBrowser()
      try {
        const tab = await browser.newPage()
        await tab.goto(origin)
        const seen = await tab.evaluate(
          async ({ upload, download }) => {
            const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: 'from the browser' })
            const get = await fetch(download)
            return { put: put.status, etag: put.headers.get('etag'), get: get.status, body: await get.text() }
          },
          { upload, download },
        )
        console.log(`[Chromium on ${origin}] ${JSON.stringify(seen)}`)
        expect(seen).toMatchObject({ put: 200, etag: expect.stringMatching(/^"[0-9a-f]{32}"$/), get: 200, body: 'from the browser' })
      } finally {
        await browser.close()
      }
    })
  })
})
