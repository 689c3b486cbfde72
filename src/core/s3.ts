import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { PresignError } from './errors'

/**
 * The S3 client for API calls (HEAD, DELETE, multipart), and the config a presigning client
 * is built from. A client we build never adds the SDK's default CRC32 checksums: presigned
 * URLs would carry the checksum of an empty body, and most S3-compatible stores refuse them.
 */
export function createClients(s3: S3Client | S3ClientConfig, region: string | undefined, timeout: number) {
  if (s3 instanceof S3Client) {
    return { client: s3, signingConfig: signingConfigOf(s3, region) }
  }
  const config: S3ClientConfig = {
    ...s3,
    ...(region ? { region } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }
  const client = new S3Client({
    ...config,
    requestHandler:
      config.requestHandler ??
      new NodeHttpHandler({ connectionTimeout: timeout, requestTimeout: timeout, throwOnRequestTimeout: true }),
  })
  return { client, signingConfig: config }
}

/**
 * A user-built client may compute CRC32 checksums by default, which must not reach URLs:
 * presign with a client that shares its region, credentials and endpoint but not that.
 */
function signingConfigOf(client: S3Client, region: string | undefined): S3ClientConfig {
  const c = client.config
  return {
    region: region ?? c.region,
    credentials: c.credentials,
    ...(c.isCustomEndpoint && c.endpoint ? { endpoint: c.endpoint } : {}),
    forcePathStyle: c.forcePathStyle,
    useAccelerateEndpoint: c.useAccelerateEndpoint,
    useDualstackEndpoint: c.useDualstackEndpoint,
    useFipsEndpoint: c.useFipsEndpoint,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }
}

interface SdkError {
  name?: string
  code?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
  cause?: unknown
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE'])

/** The HTTP status S3 answered, if it answered. */
export function s3Status(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode
}

/** S3's error code (`NoSuchKey`, `PreconditionFailed`, ...), if it answered with one. */
export function s3Code(error: unknown): string | undefined {
  const e = error as SdkError | undefined
  return e?.Code ?? e?.name
}

/** Maps a failed S3 call to 502/503/504 with a message safe to show (no S3 XML, no credentials). */
export function storageError(error: unknown): PresignError {
  const e = (error ?? {}) as SdkError
  const cause = (e.cause ?? {}) as SdkError
  const code = e.code ?? cause.code
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'ETIMEDOUT' || e.name === 'RequestTimeout') {
    return new PresignError('storage_timeout', 'The storage service did not answer in time. Try again.', { cause: error })
  }
  if ((code && UNREACHABLE.has(code)) || s3Status(error) === 503) {
    return new PresignError('storage_unavailable', 'The storage service is unavailable. Try again later.', { cause: error })
  }
  return new PresignError('storage_error', 'The storage service failed to handle the request.', { cause: error })
}
