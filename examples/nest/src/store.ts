/** The injection token of the store settings (see `storeFromEnv`). */
export const UPLOAD_STORE = 'UPLOAD_STORE'

export interface UploadStore {
  bucket: string
  secret: string
  s3: {
    region: string
    endpoint?: string
    forcePathStyle?: boolean
    credentials?: { accessKeyId: string; secretAccessKey: string }
  }
}

/**
 * The store from the same variables as the other examples: S3_ENDPOINT (an S3-compatible store such
 * as MinIO or Ceph RGW; unset: AWS), S3_BUCKET, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY
 * (unset: the SDK's provider chain), PRESIGN_SECRET. The bucket must exist.
 */
export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): UploadStore {
  const { S3_ENDPOINT, S3_BUCKET, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, PRESIGN_SECRET } = env
  if (!S3_BUCKET) {
    throw new Error(
      '[nest example] set S3_BUCKET to an existing bucket, and S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY for a store other than AWS',
    )
  }
  return {
    bucket: S3_BUCKET,
    secret: PRESIGN_SECRET ?? 'demo-secret-change-me',
    s3: {
      region: S3_REGION || 'us-east-1',
      ...(S3_ENDPOINT ? { endpoint: S3_ENDPOINT, forcePathStyle: true } : {}),
      ...(S3_ACCESS_KEY_ID && S3_SECRET_ACCESS_KEY
        ? { credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY } }
        : {}),
    },
  }
}
