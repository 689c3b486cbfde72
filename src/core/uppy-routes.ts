import { resumeUpload } from './auth'
import { PresignError, badRequest } from './errors'
import { finishUpload, notifyAbort } from './finish'
import { asContentType, asMetadata, asObject, asString, queryMetadata } from './input'
import { MAX_PARTS } from './limits'
import type { Action, FileInfo } from './options'
import { partsOnS3, signPart, uploadIdOf } from './parts'
import type { Core } from './presigner'
import type { CoreRequest } from './routes'
import { startMultipart, startPostPolicy } from './start'

/**
 * The routes of the `@uppy/aws-s3` v4/v5 client (SPEC §4.2), translated onto the core's
 * actions. Each handler returns the JSON body Uppy expects. The `uploadId` Uppy holds is our
 * sealed token, so a `key`/`uploadId` pair that the caller did not create is refused.
 */
export type UppyRoute<Req> = (req: CoreRequest<Req>, params: Record<string, string>) => Promise<unknown>

export function uppyRoutes<Req>(core: Core<Req>): Array<[pattern: string, methods: Record<string, UppyRoute<Req>>]> {
  /** Opens the uploadId (our token) and checks that Uppy's `key` is the one it names. */
  async function resume(action: Action, req: CoreRequest<Req>, uploadId: string | undefined) {
    const opened = await resumeUpload(core, action, uploadId, req.request, req.mount)
    if (req.query.get('key') !== opened.upload.key) {
      throw new PresignError('forbidden', 'This key does not belong to this upload.')
    }
    // Every /s3/multipart/:uploadId route acts on a multipart upload. A single upload's token has
    // no S3 upload id, and AbortMultipartUpload without one is a DeleteObject on S3.
    uploadIdOf(opened.upload)
    return opened
  }

  return [
    [
      // `?filename=&type=&metadata[k]=v` → `{ method: 'POST', url, fields, expires }`
      '/s3/params',
      {
        GET: async (req) => {
          const file: FileInfo = {
            filename: asString(req.query.get('filename') ?? undefined, 'filename'),
            contentType: asContentType(req.query.get('type'), 'type'),
            metadata: asMetadata(queryMetadata(req.query), 'uppy'),
          }
          const { url, fields, expiresIn } = await startPostPolicy(core, file, req.request)
          return { method: 'POST', url, fields, expires: expiresIn }
        },
      },
    ],
    [
      // `{ filename, type, metadata }` → `{ key, uploadId, bucket }`
      '/s3/multipart',
      {
        POST: async (req) => {
          const body = asObject(await req.readBody())
          const file: FileInfo = {
            filename: asString(body.filename, 'filename'),
            contentType: asContentType(body.type, 'type'),
            metadata: asMetadata(body.metadata === undefined ? {} : asObject(body.metadata), 'uppy'),
          }
          const { upload, token } = await startMultipart(core, file, req.request, undefined, req.mount)
          return { key: upload.key, uploadId: token, bucket: upload.bucket }
        },
      },
    ],
    // Before `/:partNumber`, which has as many segments.
    [
      // `{ parts: [{ PartNumber, ETag }] }` → `{ location, key, bucket }`
      '/s3/multipart/:uploadId/complete',
      {
        POST: async (req, params) => {
          const { upload, identity } = await resume('complete', req, params.uploadId)
          const parts = asObject(await req.readBody()).parts
          if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PARTS) {
            throw badRequest(`\`parts\` must list 1 to ${MAX_PARTS} parts.`)
          }
          // The parts S3 reports are what gets completed; Uppy's list only has to be well-formed.
          for (const part of parts) {
            const { PartNumber, ETag } = asObject(part)
            if (!Number.isInteger(PartNumber) || typeof ETag !== 'string') throw badRequest('Each part needs a `PartNumber` and an `ETag`.')
          }
          const done = await finishUpload(core, upload, identity, req.request, parts)
          return {
            location: await core.at(upload.bucket).signer.objectUrl(upload.key),
            key: done.key,
            bucket: upload.bucket,
            result: done.result,
          }
        },
      },
    ],
    [
      // → `{ url, expires }`
      '/s3/multipart/:uploadId/:partNumber',
      {
        GET: async (req, params) => {
          const { upload } = await resume('upload', req, params.uploadId)
          // A plain decimal: `0x1`, `1e0` or ` 1` are not part numbers.
          const partNumber = /^[1-9]\d{0,4}$/.test(params.partNumber ?? '') ? Number(params.partNumber) : Number.NaN
          const { url } = await signPart(core, upload, partNumber)
          return { url, expires: upload.expiresIn }
        },
      },
    ],
    [
      '/s3/multipart/:uploadId',
      {
        // → a bare array of `{ PartNumber, ETag, Size }`
        GET: async (req, params) => {
          const { upload } = await resume('upload', req, params.uploadId)
          const parts = await partsOnS3(core, upload)
          if (parts === 'unsupported') throw new PresignError('storage_error', 'This storage service cannot list the parts of an upload.')
          return parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, Size: p.size }))
        },
        // → `{}`
        DELETE: async (req, params) => {
          const { upload, identity } = await resume('abort', req, params.uploadId)
          if (await core.at(upload.bucket).storage.abortMultipart(upload.key, upload.uploadId!))
            await notifyAbort(core, upload, 'abort', { source: 'abort', request: req.request, identity })
          return {}
        },
      },
    ],
  ]
}
