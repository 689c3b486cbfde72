import { randomBytes } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { describe, it } from 'vitest'

/**
 * The real S3 server of the integration suites: Ceph RADOS Gateway on loopback, started by
 * `.ci/run` or `npm run rgw:start`. When it is not reachable, RGW suites fail in CI and are
 * skipped with a printed reason elsewhere: a check never passes because nothing ran.
 */

export const RGW_ENDPOINT = process.env.S3_TEST_ENDPOINT ?? 'http://127.0.0.1:7480'
const ACCESS_KEY = process.env.S3_TEST_ACCESS_KEY ?? 'AKIATESTTESTTEST0001'
const SECRET_KEY = process.env.S3_TEST_SECRET_KEY ?? 'testsecrettestsecrettestsecret0001'

let available: Promise<boolean> | undefined

export function rgwAvailable(): Promise<boolean> {
  available ??= fetch(RGW_ENDPOINT, { signal: AbortSignal.timeout(2000) }).then(
    (res) => res.status < 500,
    () => false,
  )
  return available
}

let warned = false

/** `describe` for suites that need RGW (top-level await keeps the choice synchronous). */
export const describeRgw: (name: string, fn: () => void) => void = (await rgwAvailable())
  ? (name, fn) => describe(name, fn)
  : process.env.CI
    ? (name) =>
        describe(name, () => {
          it('needs Ceph RGW', () => {
            throw new Error(`Ceph RGW is not reachable at ${RGW_ENDPOINT}; CI must start it with scripts/start-rgw.sh`)
          })
        })
    : (name, fn) => {
        if (!warned) {
          warned = true
          console.warn(`[rgw] SKIPPED: Ceph RGW is not reachable at ${RGW_ENDPOINT}. Install it and run \`npm run rgw:start\` (see README, Testing).`)
        }
        describe.skip(name, fn)
      }

export function rgwClientConfig(): S3ClientConfig {
  return {
    endpoint: RGW_ENDPOINT,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }
}

export function rgwClient(): S3Client {
  return new S3Client(rgwClientConfig())
}

/** A uniquely named bucket with the CORS rule browsers need (ETag and Location exposed). */
export async function createTestBucket(prefix = 'test') {
  const client = rgwClient()
  const bucket = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30)}-${randomBytes(5).toString('hex')}`
  await client.send(new CreateBucketCommand({ Bucket: bucket }))
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
  async function cleanup() {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
    for (const u of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId })).catch(() => {})
    }
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }))
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }))
      if (keys.length === 0) break
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }))
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }))
    client.destroy()
  }
  return { bucket, client, cleanup }
}

/** Drives a presigned URL with plain fetch, keeping S3's answer (status, headers, XML) for the test. */
export async function putRaw(url: string, init: { method?: string; headers?: Record<string, string>; body?: BodyInit | Uint8Array }) {
  const res = await fetch(url, { method: init.method ?? 'PUT', headers: init.headers ?? {}, ...(init.body === undefined ? {} : { body: init.body as BodyInit }) })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

/** The `<Code>` of an S3 XML error body. */
export function s3ErrorCode(text: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1]
}
