import { randomBytes } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { describe, inject, it } from 'vitest'
import type { S3TestEnv } from '../setup/rgw'

/**
 * The real S3 server of the integration suites: Ceph RADOS Gateway on loopback, started by
 * `.ci/run`, by `npm run rgw:start`, or by the vitest globalSetup (test/setup/rgw.ts) when Ceph is
 * installed and nothing else is configured. When it is not reachable, RGW suites fail in CI and
 * are skipped with a printed reason elsewhere: a check never passes because nothing ran.
 *
 * Env: S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY, S3_TEST_SECRET_KEY, and S3_TEST_UPLOAD_ACCESS_KEY,
 * S3_TEST_UPLOAD_SECRET_KEY for the write-only user (defaults: scripts/start-rgw.sh's). What the
 * globalSetup provides (`s3TestEnv`: the RGW it found or started) comes first.
 */

const provided: Partial<S3TestEnv> = inject('s3TestEnv') ?? {}
const env = { ...process.env, ...provided }

export const RGW_ENDPOINT = env.S3_TEST_ENDPOINT ?? 'http://127.0.0.1:7480'
export const RGW_REGION = 'us-east-1'
const ACCESS_KEY = env.S3_TEST_ACCESS_KEY ?? 'AKIATESTTESTTEST0001'
const SECRET_KEY = env.S3_TEST_SECRET_KEY ?? 'testsecrettestsecrettestsecret0001'

let available: Promise<boolean> | undefined
let unavailableReason = ''

/**
 * Whether an S3 server answers an anonymous GET at the endpoint (2 s timeout; checked once per
 * test file). RGW lists the anonymous user's (no) buckets; AWS-like stores answer an XML
 * `<Error>`. Any other HTTP server on the port (a dev server, a sandbox's egress interceptor
 * answering 404 for every address) does not count: the suites would fail confusingly.
 */
export function rgwAvailable(): Promise<boolean> {
  available ??= fetch(RGW_ENDPOINT, { signal: AbortSignal.timeout(2000) }).then(
    async (res) => {
      const body = await res.text().catch(() => '')
      if (res.status < 500 && /<ListAllMyBucketsResult[\s>]|<Error>\s*<Code>/.test(body)) return true
      unavailableReason = `HTTP ${res.status} from a server that does not speak S3 (server: ${res.headers.get('server') ?? 'unknown'})`
      return false
    },
    (err: unknown) => {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } }
      unavailableReason =
        e.name === 'TimeoutError' ? 'no answer within 2 s' : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err))
      return false
    },
  )
  return available
}

let warned = false

/**
 * `describe` for suites that need RGW. The helper awaits `rgwAvailable()` at its top level
 * (vitest 4 runs test files as ES modules), so importing files get a synchronous choice:
 * a real `describe`; in CI a suite with one failing test; elsewhere `describe.skip` plus one warning.
 */
export const describeRgw: (name: string, fn: () => void) => void = (await rgwAvailable())
  ? (name, fn) => describe(name, fn)
  : process.env.CI
    ? (name) =>
        describe(name, () => {
          it('needs Ceph RGW', () => {
            throw new Error(
              `Ceph RGW is not reachable at ${RGW_ENDPOINT} (${unavailableReason}); CI must start it with scripts/start-rgw.sh`,
            )
          })
        })
    : (name, fn) => {
        if (!warned) {
          warned = true
          console.warn(
            `[rgw] SKIPPED: Ceph RGW is not reachable at ${RGW_ENDPOINT} (${unavailableReason}). ` +
              'Install Ceph (`npm test` then starts RGW itself) or run `npm run rgw:start` (see README, Testing); with CI set this is a failure.',
          )
        }
        describe.skip(name, fn)
      }

export function rgwClientConfig(): S3ClientConfig {
  return {
    endpoint: RGW_ENDPOINT,
    forcePathStyle: true,
    region: RGW_REGION,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    // Without these the SDK signs CRC32-of-nothing into presigned PUT/UploadPart URLs (FACTS.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }
}

export function rgwClient(): S3Client {
  return new S3Client(rgwClientConfig())
}

/** `<prefix>-<10 hex>`: lowercase, 3-63 chars, starts and ends with a letter or digit. */
export function testBucketName(prefix = 'test'): string {
  const p = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40)
    .replace(/-+$/, '')
  return `${p || 'test'}-${randomBytes(5).toString('hex')}`
}

export interface TestBucket {
  bucket: string
  client: S3Client
  /** Aborts open multipart uploads, deletes every object, deletes the bucket. Idempotent. */
  cleanup: () => Promise<void>
}

/**
 * A uniquely named bucket (parallel test files never collide) with the CORS rule browsers need:
 * any origin; GET, PUT, POST, HEAD, DELETE; any request header; ETag and Location exposed.
 */
export async function createTestBucket(prefix = 'test'): Promise<TestBucket> {
  const client = rgwClient()
  const bucket = testBucketName(prefix)
  await client.send(new CreateBucketCommand({ Bucket: bucket }))
  let done = false
  async function cleanup() {
    if (done) return
    for (let keyMarker: string | undefined, idMarker: string | undefined; ; ) {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: idMarker }))
      for (const u of page.Uploads ?? []) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId })).catch(() => {})
      }
      if (!page.IsTruncated) break
      keyMarker = page.NextKeyMarker
      idMarker = page.NextUploadIdMarker
    }
    for (;;) {
      // Always the first page: every round deletes what it listed.
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }))
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }))
      if (keys.length === 0) break
      const res = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }))
      if (res.Errors?.length) throw new Error(`cleanup of ${bucket}: ${res.Errors.map((e) => `${e.Key}: ${e.Code}`).join(', ')}`)
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }))
    done = true
    client.destroy()
  }
  try {
    await client.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['*'],
              AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD', 'DELETE'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag', 'Location'],
              MaxAgeSeconds: 600,
            },
          ],
        },
      }),
    )
  } catch (err) {
    await cleanup().catch(() => {})
    throw err
  }
  return { bucket, client, cleanup }
}

/** Drives a presigned URL with plain fetch, keeping S3's answer (status, headers, XML) for the test. */
export async function putRaw(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: BodyInit | Uint8Array } = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, {
    method: init.method ?? 'PUT',
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body as BodyInit }),
  })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

/** The `<Code>` of an S3 XML error body. */
export function s3ErrorCode(text: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1]
}

const UPLOAD_ACCESS_KEY = env.S3_TEST_UPLOAD_ACCESS_KEY ?? 'AKIATESTUPLOADER0001'
const UPLOAD_SECRET_KEY = env.S3_TEST_UPLOAD_SECRET_KEY ?? 'uploadsecretuploadsecretupload0001'

/**
 * The keys of RGW's write-only user `uploader` (created by scripts/start-rgw.sh with no bucket of
 * its own and `max-buckets -1`): it may do only what a bucket policy grants it, see
 * `grantUploaderPutOnly`. For the `uploadCredentials` option.
 */
export function rgwUploaderCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: UPLOAD_ACCESS_KEY, secretAccessKey: UPLOAD_SECRET_KEY }
}

/** `rgwClientConfig()` with the write-only user's keys. */
export function rgwUploaderClientConfig(): S3ClientConfig {
  return { ...rgwClientConfig(), credentials: rgwUploaderCredentials() }
}

const userIds = new Map<string, Promise<string>>()

/** The RGW user id behind a key pair: the `Owner.ID` of its ListBuckets (any user may list its own, even none). */
function rgwUserId(credentials: { accessKeyId: string; secretAccessKey: string }, who: string): Promise<string> {
  let id = userIds.get(credentials.accessKeyId)
  if (!id) {
    const client = new S3Client({ ...rgwClientConfig(), credentials })
    id = client
      .send(new ListBucketsCommand({}))
      .then(
        (res) => {
          if (!res.Owner?.ID) throw new Error(`RGW named no owner for the ${who} user's ListBuckets`)
          return res.Owner.ID
        },
        (err: unknown) => {
          throw new Error(
            `the ${who} user (access key ${credentials.accessKeyId}) is unknown to RGW at ${RGW_ENDPOINT}: ` +
              `${(err as Error).name}. RGW started before scripts/start-rgw.sh created it? Restart RGW, or run ` +
              '`radosgw-admin -c <RGW_DIR>/ceph.conf user create --uid=uploader --display-name="Write-only uploader" ' +
              '--max-buckets=-1 --access-key=$S3_TEST_UPLOAD_ACCESS_KEY --secret-key=$S3_TEST_UPLOAD_SECRET_KEY`',
          )
        },
      )
      .finally(() => client.destroy())
    id.catch(() => userIds.delete(credentials.accessKeyId))
    userIds.set(credentials.accessKeyId, id)
  }
  return id
}

/**
 * The bucket policy of least privilege for `uploadCredentials` on RGW, as JSON:
 * - the app's user (`S3_TEST_ACCESS_KEY`, the bucket owner) keeps every right on the bucket and its
 *   objects. Needed on RGW, where an object belongs to the user who uploaded it: without this the
 *   app cannot HEAD, GET or delete what the uploader wrote (403; measured). AWS needs no such
 *   statement when the bucket's Object Ownership is "bucket owner enforced" (its default).
 * - the uploader may `s3:PutObject` on `<bucket>/<prefix>*` and nothing else. That covers a PUT, a
 *   POST Object (browser form) and UploadPart on an upload the app created; CreateMultipartUpload,
 *   ListParts, Complete and Abort stay with the app's keys, so their permissions are not granted.
 *   It reads nothing, so an unsigned `x-amz-copy-source` turns into a refused copy (403).
 * - the uploader is denied reading (GetObject, GetObjectVersion, GetObjectTagging) even what it
 *   uploaded itself, which RGW would otherwise allow it as the objects' owner.
 */
export async function uploaderPutOnlyPolicy(bucket: string, prefix = ''): Promise<string> {
  if (/[*?]/.test(prefix)) throw new Error(`grantUploaderPutOnly: a prefix with * or ? would be a policy wildcard: ${prefix}`)
  const [app, uploader] = await Promise.all([
    rgwUserId({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, 'main'),
    rgwUserId(rgwUploaderCredentials(), 'uploader'),
  ])
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AppKeepsFullAccess',
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam:::user/${app}`] },
        Action: ['s3:*'],
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
      },
      {
        Sid: 'UploaderPutOnly',
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam:::user/${uploader}`] },
        Action: ['s3:PutObject'],
        Resource: [`arn:aws:s3:::${bucket}/${prefix}*`],
      },
      {
        // RGW makes the uploader the owner of what it uploaded, and an owner may read: without this,
        // an unsigned x-amz-copy-source on an upload URL copies another user's upload (measured).
        Sid: 'UploaderReadsNothing',
        Effect: 'Deny',
        Principal: { AWS: [`arn:aws:iam:::user/${uploader}`] },
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging'],
        Resource: [`arn:aws:s3:::${bucket}/*`],
      },
    ],
  })
}

/**
 * Sets `uploaderPutOnlyPolicy(bucket, prefix)` as the bucket's policy (replacing any other) with
 * the main user's keys, and returns the JSON it set.
 */
export async function grantUploaderPutOnly(bucket: string, prefix = ''): Promise<string> {
  const policy = await uploaderPutOnlyPolicy(bucket, prefix)
  const client = rgwClient()
  try {
    await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }))
  } finally {
    client.destroy()
  }
  return policy
}
