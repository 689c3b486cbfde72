import { NONCE_METADATA, asContentType, asObject, asString, bad } from './_input'
import { completeUpload } from './complete'
import { type Context, begin, resume } from './context'
import { startMultipart } from './create'
import { PresignError } from './errors'
import { abortUpload, partsOnS3, signPart } from './multipart'
import { type Action, type FileInfo, MAX_PARTS, MAX_SINGLE_SIZE } from './options'
import { type CoreRequest, type RouteTable, json } from './routes'

/**
 * The routes of the `@uppy/aws-s3` v4/v5 client (SPEC §4.2), translated onto the core's
 * actions. The `uploadId` Uppy holds is our sealed token, so a `key`/`uploadId` pair that the
 * caller did not create is refused.
 */
/** Uppy sends every meta field of the file; keep the custom string ones S3 can store. */
const UPPY_OWN_FIELDS = new Set(['name', 'type', 'relativepath', 'filename', 'size'])
const METADATA_NAME = /^[a-z0-9][a-z0-9_-]{0,127}$/

function uppyMetadata(raw: Record<string, unknown>): Record<string, string> {
  const metadata: Record<string, string> = {}
  for (const [rawName, value] of Object.entries(raw)) {
    const name = rawName.toLowerCase()
    if (typeof value !== 'string' || UPPY_OWN_FIELDS.has(name) || name === NONCE_METADATA || !METADATA_NAME.test(name)) continue
    metadata[name] = /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value)
  }
  if (JSON.stringify(metadata).length > 1900) throw bad('Metadata is too large: S3 stores at most 2 KB.')
  return metadata
}

/** `metadata[k]=v` query parameters (qs-style brackets), parsed the same on every framework. */
function queryMetadata(query: URLSearchParams): Record<string, string> {
  const raw: Record<string, string> = {}
  for (const [name, value] of query) {
    const match = /^metadata\[([^\]]*)\]$/.exec(name)
    if (match) raw[match[1]!] = value
  }
  return raw
}

export function uppyRoutes<Req>(ctx: Context<Req>): RouteTable<Req> {
  const { o } = ctx

  /** Opens the uploadId (our token) and checks that Uppy's `key` is the one it names. */
  async function upload(action: Action, req: CoreRequest<Req>, uploadId: string | undefined) {
    const opened = await resume(ctx, action, uploadId, req.request)
    if (req.query.get('key') !== opened.claims.k) {
      throw new PresignError('forbidden', 'This key does not belong to this upload.')
    }
    return opened
  }

  return [
    [
      '/s3/params',
      {
        GET: async (req) => {
          const file: FileInfo = {
            filename: asString(req.query.get('filename') ?? undefined, 'filename'),
            contentType: asContentType(req.query.get('type')),
            size: -1,
            metadata: uppyMetadata(queryMetadata(req.query)),
          }
          const { k: key, n: nonce } = (await begin(ctx, file, req.request)).claims
          const { url, fields } = await ctx.signer.postObject(
            { key, contentType: file.contentType, maxSize: Math.min(o.maxFileSize, MAX_SINGLE_SIZE), metadata: { ...file.metadata, [NONCE_METADATA]: nonce } },
            o.expiresIn,
          )
          return json({ method: 'POST', url, fields, expires: o.expiresIn })
        },
      },
    ],
    [
      '/s3/multipart',
      {
        POST: async (req) => {
          const body = asObject(await req.readBody())
          const file: FileInfo = {
            filename: asString(body.filename, 'filename'),
            contentType: asContentType(body.type),
            size: -1,
            metadata: uppyMetadata(body.metadata === undefined ? {} : asObject(body.metadata)),
          }
          const { claims, token } = await startMultipart(ctx, file, req.request)
          return json({ key: claims.k, uploadId: token, bucket: o.bucket })
        },
      },
    ],
    // Before `/:partNumber`, which has as many segments.
    [
      '/s3/multipart/:uploadId/complete',
      {
        POST: async (req, params) => {
          const { claims, identity } = await upload('complete', req, params.uploadId)
          const parts = asObject(await req.readBody()).parts
          if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PARTS) {
            throw bad(`\`parts\` must list 1 to ${MAX_PARTS} parts.`)
          }
          // The parts S3 reports are what gets completed; Uppy's list only has to be well-formed.
          for (const part of parts) {
            const { PartNumber, ETag } = asObject(part)
            if (!Number.isInteger(PartNumber) || typeof ETag !== 'string') throw bad('Each part needs a `PartNumber` and an `ETag`.')
          }
          const done = await completeUpload(ctx, claims, identity, req.request, parts)
          const location = (await ctx.signer.getObject(claims.k, 60)).split('?')[0]
          return json({ location, key: done.key, bucket: o.bucket, result: done.result })
        },
      },
    ],
    [
      '/s3/multipart/:uploadId/:partNumber',
      {
        GET: async (req, params) => {
          const { claims } = await upload('upload', req, params.uploadId)
          const partNumber = Number(params.partNumber)
          const { url } = await signPart(ctx, claims, partNumber)
          return json({ url, expires: o.expiresIn })
        },
      },
    ],
    [
      '/s3/multipart/:uploadId',
      {
        GET: async (req, params) => {
          const { claims } = await upload('upload', req, params.uploadId)
          const parts = await partsOnS3(ctx, claims)
          return json(parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag, Size: p.Size })))
        },
        DELETE: async (req, params) => {
          const { claims } = await upload('abort', req, params.uploadId)
          await abortUpload(ctx, claims)
          return json({})
        },
      },
    ],
  ]
}
