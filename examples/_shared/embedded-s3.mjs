// The store the demos upload to. By default an in-process s3rver (a fake S3 for local use:
// it does not enforce signed lengths or types, so it shows the flow, not the guarantees).
// Set S3_ENDPOINT to use a real S3-compatible store instead (MinIO, Ceph RGW, ...).
//
//   DEMO_S3_PORT   port for the embedded store (default: any free port)
//   DEMO_S3_DIR    where the embedded store keeps its files (default: a temp dir removed on close)
//   S3_ENDPOINT, S3_BUCKET (demo), S3_REGION (us-east-1), S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const BUCKET = 'demo'

// Browsers PUT straight to the store, so the bucket must allow cross-origin requests and
// expose ETag (multipart) and Location (POST uploads).
const CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedMethod>DELETE</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <ExposeHeader>Location</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`

// Presigned URLs must not carry the SDK's default CRC32 of an empty body (see FACTS.md).
const CHECKSUMS = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }

/**
 * Starts the demo store (or describes the external one from S3_* variables).
 * @returns {Promise<{ endpoint: string, bucket: string, s3: import('@aws-sdk/client-s3').S3ClientConfig, external: boolean, close: () => Promise<void> }>}
 */
export async function startS3() {
  if (process.env.S3_ENDPOINT) return await externalS3()

  // s3rver is a dev dependency: load it only when the embedded store is wanted.
  const { default: S3rver } = await import('s3rver')
  const ownDir = !process.env.DEMO_S3_DIR
  const directory = ownDir ? await mkdtemp(join(tmpdir(), 'demo-s3-')) : resolve(process.env.DEMO_S3_DIR)
  if (!ownDir) await mkdir(directory, { recursive: true })

  const server = new S3rver({
    address: '127.0.0.1',
    port: Number(process.env.DEMO_S3_PORT ?? 0),
    directory,
    silent: true,
    // 127.0.0.1 is path-style anyway; this keeps a hostname like "localhost" from being read as a bucket.
    vhostBuckets: false,
    configureBuckets: [{ name: BUCKET, configs: [CORS] }],
  })
  let address
  try {
    address = await server.run()
  } catch (error) {
    if (ownDir) await rm(directory, { recursive: true, force: true })
    throw error
  }
  const endpoint = `http://127.0.0.1:${address.port}`

  let closed
  return {
    endpoint,
    bucket: BUCKET,
    external: false,
    s3: {
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      // s3rver's fixed account.
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      ...CHECKSUMS,
    },
    close() {
      closed ??= (async () => {
        server.httpServer.closeAllConnections?.()
        await server.close()
        if (ownDir) await rm(directory, { recursive: true, force: true })
      })()
      return closed
    },
  }
}

/**
 * A real store from S3_* variables. A bucket that does not exist yet is created, with a CORS rule for
 * pages on this machine (http://127.0.0.1:* and http://localhost:*): the demo never changes a bucket
 * it did not create, and for an existing one it prints the doctor command that sets CORS up.
 */
async function externalS3() {
  const endpoint = process.env.S3_ENDPOINT
  const { S3_ACCESS_KEY_ID: accessKeyId, S3_SECRET_ACCESS_KEY: secretAccessKey } = process.env
  const bucket = process.env.S3_BUCKET || BUCKET
  const region = process.env.S3_REGION || 'us-east-1'
  const s3 = {
    endpoint,
    region,
    forcePathStyle: true,
    // Without both keys the SDK's default provider chain applies (env, profile, IMDS, ...).
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    ...CHECKSUMS,
  }
  const { S3Client, HeadBucketCommand, CreateBucketCommand, PutBucketCorsCommand } = await import('@aws-sdk/client-s3')
  const client = new S3Client(s3)
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }))
    console.log(
      `[demo] using the existing bucket "${bucket}" at ${endpoint}. Browsers need its CORS for this page's origin: ` +
        `npx s3-presign-middleware doctor --bucket ${bucket} --endpoint ${endpoint} --region ${region} --path-style --origin http://127.0.0.1:<port> --fix`,
    )
  } catch (error) {
    if (error?.$metadata?.httpStatusCode !== 404) throw error
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
    await client.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['http://127.0.0.1:*', 'http://localhost:*'],
              AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'],
              AllowedHeaders: ['content-type', 'if-none-match', 'x-amz-meta-*', 'x-amz-checksum-sha256'],
              ExposeHeaders: ['ETag', 'Location'],
              MaxAgeSeconds: 3000,
            },
          ],
        },
      }),
    )
    console.log(`[demo] created the bucket "${bucket}" at ${endpoint}, with CORS for pages on http://127.0.0.1 and http://localhost`)
  } finally {
    client.destroy()
  }
  return { endpoint, bucket, external: true, s3, async close() {} }
}
