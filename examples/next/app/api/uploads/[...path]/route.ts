// Every upload route under /api/uploads, in one route file: the native ones (POST create, ...,
// GET and POST download) and Uppy's (GET params and parts, POST and DELETE multipart). The handler
// is exported under each method they use.
//
//   npm run build && S3_BUCKET=my-uploads PRESIGN_SECRET=$(openssl rand -base64 32) npx next dev examples/next
//
// S3_ENDPOINT (with S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY) points it at another store
// than AWS. The bucket's CORS must let the page's origin PUT: `npx s3-presign-middleware doctor`.
import { createFetchHandler } from 's3-presign-middleware/fetch'

const { S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = process.env

const uploads = createFetchHandler({
  prefix: '/api/uploads',
  bucket: process.env.S3_BUCKET!,
  // Without S3_ENDPOINT: AWS S3, with the SDK's usual region and credentials (AWS_REGION, a profile, a role).
  s3: S3_ENDPOINT
    ? {
        endpoint: S3_ENDPOINT,
        region: S3_REGION ?? 'us-east-1',
        forcePathStyle: true,
        ...(S3_ACCESS_KEY_ID && S3_SECRET_ACCESS_KEY
          ? { credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY } }
          : {}),
        // Presigned URLs must not carry the SDK's CRC32 of an empty body (FACTS.md).
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }
    : undefined,
  // Read when `next start` (or `next dev`) loads this module. `next build` loads it too, usually
  // without the runtime's secrets: createFetchHandler then checks its options at the first request.
  secret: process.env.PRESIGN_SECRET!,
  // A real app returns the signed-in user here (from its session), or false to refuse.
  authorize: () => true,
  onComplete: ({ key }) => ({ downloadUrl: `/api/uploads/download?key=${encodeURIComponent(key)}` }),
})

export const { GET, POST, DELETE } = uploads
