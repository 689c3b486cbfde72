import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { PresignError } from './errors'
import { defaultRequestHandler } from './http-handler'
import { commandInputOf } from './object-settings'

/**
 * Every S3 API call the core makes (the presigned URLs are built in `signing/`), and what S3's
 * answers mean: a missing object is `undefined`, an existing one on a conditional write is
 * `'exists'`, a store without an API is `'unsupported'`. Every other failure is a 502/503/504
 * `PresignError` whose message is safe to show (no S3 XML, no credentials).
 */

/** What HeadObject tells about a stored object. */
export interface StoredObject {
  size: number
  contentType: string | undefined
  etag: string
  metadata: Record<string, string>
  checksumSha256: string | undefined
  /** what the object is stored with (SPEC §3 `object`), as HEAD reports it */
  serverSideEncryption?: string
  kmsKeyId?: string
  storageClass?: string
  cacheControl?: string
  contentDisposition?: string
  tagCount: number
  /**
   * HEAD was refused with 400: the object is encrypted with a customer key (SSE-C), which a store
   * that applies unsigned `x-amz-*` headers (Ceph RGW 16) lets an uploader add. Nothing else is known.
   */
  unreadable?: true
}

/** A part S3 holds for a multipart upload. */
export interface StoredPart {
  partNumber: number
  etag: string
  size: number
  checksumSha256?: string
}

export interface Storage {
  head(key: string, options?: { checksum?: boolean }): Promise<StoredObject | undefined>
  delete(key: string): Promise<void>
  /** `settings`: the object settings' headers (`object-settings.ts`), sent as CreateMultipartUpload's parameters. */
  createMultipart(input: {
    key: string
    contentType: string
    metadata: Record<string, string>
    checksum: boolean
    settings?: Record<string, string> | undefined
  }): Promise<string>
  /** The object's tags (GetObjectTagging). */
  getTags(key: string): Promise<Record<string, string>>
  /** Replaces the object's tags (PutObjectTagging). */
  putTags(key: string, tags: Record<string, string>): Promise<void>
  /** Every part, following pages; `undefined` when the upload is gone, `'unsupported'` on stores without ListParts. */
  listParts(key: string, uploadId: string): Promise<StoredPart[] | undefined | 'unsupported'>
  /**
   * `'exists'` when `ifNoneMatch` is set and S3 refused to replace an object; `'bad-parts'` when
   * S3 refused the parts themselves (a non-final part under 5 MiB, a part it does not hold).
   */
  completeMultipart(key: string, uploadId: string, parts: StoredPart[], ifNoneMatch: boolean): Promise<'done' | 'exists' | 'bad-parts'>
  /** Idempotent: `false` when the upload was already gone (aborted, or completed). */
  abortMultipart(key: string, uploadId: string): Promise<boolean>
}

interface SdkError {
  name?: string
  code?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
  cause?: unknown
}

/** The HTTP status S3 answered, if it answered. */
export function s3Status(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode
}

/** S3's error code (`NoSuchKey`, `PreconditionFailed`, ...), if it answered with one. */
export function s3Code(error: unknown): string | undefined {
  const e = error as SdkError | undefined
  return e?.Code ?? e?.name
}

/**
 * An `S3Client` from any copy or version of `@aws-sdk/client-s3` v3, recognised by shape: an app
 * with its own SDK version has its own `S3Client` class, so `instanceof` would be false.
 */
export function isS3Client(value: unknown): value is S3Client {
  const v = value as { send?: unknown; config?: unknown; middlewareStack?: unknown } | null
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.send === 'function' &&
    typeof v.config === 'object' &&
    v.config !== null &&
    typeof v.middlewareStack === 'object'
  )
}

/** The S3 API calls on one bucket, through `client` (shared by every bucket of the same client config). */
export function createStorage(bucket: string, client: S3Client, timeout: number): Storage {
  /** One S3 call with the timeout; `meaning` turns an expected failure into a value. */
  async function call<T, M = never>(
    send: (abortSignal: AbortSignal) => Promise<T>,
    meaning?: (error: unknown) => M | undefined,
  ): Promise<T | M> {
    try {
      return await send(AbortSignal.timeout(timeout))
    } catch (error) {
      const meant = meaning?.(error)
      if (meant !== undefined) return meant
      throw storageError(error)
    }
  }
  const missing = (error: unknown) => (s3Status(error) === 404 ? null : undefined)
  const UNREADABLE: StoredObject = {
    size: 0,
    contentType: undefined,
    etag: '',
    metadata: {},
    checksumSha256: undefined,
    tagCount: 0,
    unreadable: true,
  }

  return {
    async head(key, options) {
      const head = await call(
        (abortSignal) =>
          client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...(options?.checksum ? { ChecksumMode: 'ENABLED' } : {}) }), {
            abortSignal,
          }),
        (error) => (s3Status(error) === 404 ? null : s3Status(error) === 400 ? ('unreadable' as const) : undefined),
      )
      if (head === null) return undefined
      if (head === 'unreadable') return UNREADABLE
      return {
        size: head.ContentLength ?? 0,
        contentType: head.ContentType,
        etag: head.ETag ?? '',
        metadata: head.Metadata ?? {},
        checksumSha256: head.ChecksumSHA256,
        ...(head.ServerSideEncryption ? { serverSideEncryption: head.ServerSideEncryption } : {}),
        ...(head.SSEKMSKeyId ? { kmsKeyId: head.SSEKMSKeyId } : {}),
        ...(head.StorageClass ? { storageClass: head.StorageClass } : {}),
        ...(head.CacheControl ? { cacheControl: head.CacheControl } : {}),
        ...(head.ContentDisposition ? { contentDisposition: head.ContentDisposition } : {}),
        tagCount: head.TagCount ?? 0,
      }
    },

    async delete(key) {
      await call((abortSignal) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }))
    },

    async getTags(key) {
      const { TagSet } = await call((abortSignal) =>
        client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }), { abortSignal }),
      )
      return Object.fromEntries((TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']))
    },

    async putTags(key, tags) {
      const TagSet = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))
      await call((abortSignal) =>
        client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet } }), { abortSignal }),
      )
    },

    async createMultipart({ key, contentType, metadata, checksum, settings }) {
      const created = await call((abortSignal) =>
        client.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            ContentType: contentType,
            Metadata: metadata,
            ...commandInputOf(settings),
            ...(checksum ? { ChecksumAlgorithm: 'SHA256' } : {}),
          }),
          { abortSignal },
        ),
      )
      if (!created.UploadId) throw new PresignError('storage_error', 'The storage service did not start the upload.')
      return created.UploadId
    },

    async listParts(key, uploadId) {
      const parts: StoredPart[] = []
      let marker: string | undefined
      do {
        const page = await call(
          (abortSignal) =>
            client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), { abortSignal }),
          // RGW says NoSuchKey where AWS says NoSuchUpload: both are 404. s3rver has no ListParts.
          (error) =>
            s3Status(error) === 404 ? ('gone' as const) : [405, 501].includes(s3Status(error) ?? 0) ? ('unsupported' as const) : undefined,
        )
        if (page === 'gone') return undefined
        if (page === 'unsupported') return 'unsupported'
        for (const p of page.Parts ?? []) {
          parts.push({
            partNumber: p.PartNumber ?? 0,
            etag: p.ETag ?? '',
            size: p.Size ?? 0,
            ...(p.ChecksumSHA256 ? { checksumSha256: p.ChecksumSHA256 } : {}),
          })
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined
      } while (marker)
      return parts
    },

    async completeMultipart(key, uploadId, parts, ifNoneMatch) {
      const done = await call(
        (abortSignal) =>
          client.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: {
                Parts: parts.map((p) => ({
                  PartNumber: p.partNumber,
                  ETag: p.etag,
                  ...(p.checksumSha256 ? { ChecksumSHA256: p.checksumSha256 } : {}),
                })),
              },
              ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
            }),
            { abortSignal },
          ),
        (error) => {
          const code = s3Code(error)
          if (code === 'PreconditionFailed') return 'exists' as const
          if (code && BAD_PARTS.has(code)) return 'bad-parts' as const
          return undefined
        },
      )
      return done === 'exists' || done === 'bad-parts' ? done : 'done'
    },

    async abortMultipart(key, uploadId) {
      // Without an upload id, S3 takes `DELETE /key?x-id=AbortMultipartUpload` as a DeleteObject.
      if (!uploadId) throw new TypeError('[s3-presign-middleware] abortMultipart needs an upload id.')
      const gone = await call(
        (abortSignal) => client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), { abortSignal }),
        missing,
      )
      return gone !== null
    },
  }
}

/**
 * The S3 client for API calls, and the config a presigning client is built from. A client we
 * build never adds the SDK's default CRC32 checksums: presigned URLs would carry the checksum
 * of an empty body, and most S3-compatible stores refuse them.
 */
export function createClients(s3: S3Client | S3ClientConfig, region: string | undefined, timeout: number) {
  if (isS3Client(s3)) return { client: s3, signingConfig: signingConfigOf(s3, region) }
  const config: S3ClientConfig = {
    ...s3,
    ...(region ? { region } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }
  const client = new S3Client({
    ...config,
    requestHandler: config.requestHandler ?? defaultRequestHandler(timeout),
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

/** S3's answers to CompleteMultipartUpload that blame the parts, not the store. */
const BAD_PARTS = new Set(['EntityTooSmall', 'InvalidPart', 'InvalidPartOrder'])

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE'])

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
