import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListPartsCommand,
  type Part,
} from '@aws-sdk/client-s3'
import type {
  CompleteResponse,
  CreateResponse,
  DownloadResponse,
  ErrorBody,
  ListPartsResponse,
  SignPartsResponse,
} from '../wire'
import { NONCE_METADATA, asChecksum, asContentType, asMetadata, asObject, asSize, asString, bad, formatBytes } from './_input'
import { partCountFor, partLength, partSizeFor } from './_parts'
import { PresignError, isPresignError } from './errors'
import { assertValidKey, contentTypeMatcher, defaultKey, keyProblem } from './keys'
import { type Action, type FileInfo, type Identity, type PresignOptions, MAX_PARTS, MAX_SINGLE_SIZE, MIN_PART_SIZE, resolveOptions } from './options'
import { createClients, s3Code, s3Status, storageError } from './s3'
import { createSdkSigner } from './sign'
import { type UploadClaims, createObjectTagger, createTokenSealer } from './token'
import { createdObjects } from './events'
import { uppyRoutes } from './uppy'

/** A request as an adapter hands it to the core. */
export interface CoreRequest<Req = unknown> {
  method: string
  /** Path relative to the mount point, e.g. `/create`. */
  path: string
  query: URLSearchParams
  /** Parses the JSON body (at most 1 MiB); throws a `PresignError` for a bad one. */
  readBody: () => Promise<unknown>
  /** The framework's own request, passed to the hooks. */
  request: Req
}

/** What an adapter writes back. */
export interface CoreResponse {
  status: number
  headers: Record<string, string>
  /** JSON body; absent for redirects. */
  body?: unknown
}

export interface Presigner<Req = unknown, Result = unknown> {
  /**
   * Answers a request to one of the routes, or `undefined` when the path is not one of
   * them (adapters then pass it on). `PresignError`s become JSON error responses; any
   * other error (a bug, a hook that failed) is thrown for the host framework to handle.
   */
  handle(req: CoreRequest<Req>): Promise<CoreResponse | undefined>
  /** `POST /create` without HTTP. */
  create(body: unknown, request: Req): Promise<CreateResponse>
  /** `POST /sign-parts` without HTTP. */
  signParts(body: unknown, request: Req): Promise<SignPartsResponse>
  /** `POST /list-parts` without HTTP. */
  listParts(body: unknown, request: Req): Promise<ListPartsResponse>
  /** `POST /complete` without HTTP. */
  complete(body: unknown, request: Req): Promise<CompleteResponse<Result>>
  /** `POST /abort` without HTTP. */
  abort(body: unknown, request: Req): Promise<Record<string, never>>
  /** `POST /download` without HTTP. */
  download(body: unknown, request: Req): Promise<DownloadResponse>
  /**
   * Completes uploads whose client vanished before calling `complete`: give it an S3 Event
   * Notification as delivered directly, through SNS, SQS or EventBridge. Each created object
   * in the bucket that was uploaded through this package (its sealed tag checks out) is verified
   * and passed to `onComplete` with `source: 'event'` and `request: undefined`. Objects that
   * were not uploaded through us are ignored; ones that break the rules are removed.
   * Events also arrive for uploads that did call `complete`: keep `onComplete` idempotent.
   */
  handleS3Event(event: unknown): Promise<S3EventOutcome<Result>[]>
}

export interface S3EventOutcome<Result = unknown> {
  key: string
  /** `completed`: onComplete ran; `ignored`: not ours or gone; `rejected`: broke a rule, removed */
  status: 'completed' | 'ignored' | 'rejected'
  result?: Result
  reason?: string
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }

/**
 * The framework-free core: validates options once, then serves every route.
 *
 * @example
 * const presigner = createPresigner({ bucket: 'uploads', secret, authorize: () => true })
 * const { url, headers } = await presigner.create({ filename: 'a.png', contentType: 'image/png', size: 1234 }, undefined)
 */
export function createPresigner<Req = unknown, Id extends Identity = Identity, Result = unknown>(
  options: PresignOptions<Req, Id, Result>,
): Presigner<Req, Result> {
  const o = resolveOptions(options)
  const { client, signingConfig } = createClients(o.s3, o.region, o.timeout)
  const signer = createSdkSigner(o.bucket, signingConfig)
  const tokens = createTokenSealer(o.secrets)
  const tags = createObjectTagger(o.secrets)
  const typeAllowed = contentTypeMatcher(o.allowedContentTypes)
  const singleLimit = Math.min(o.maxFileSize, MAX_SINGLE_SIZE)

  /** Runs one S3 call with the timeout; failures become 502/503/504 `PresignError`s. */
  async function s3<T>(call: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
    try {
      return await call({ abortSignal: AbortSignal.timeout(o.timeout) })
    } catch (error) {
      throw storageError(error)
    }
  }

  async function authorize(action: Action, request: Req, extra: { key?: string; file?: FileInfo }): Promise<Id | true> {
    let verdict: Id | boolean
    try {
      verdict = await o.authorize({ action, request, ...extra })
    } catch (error) {
      throw refusal(error)
    }
    if (verdict === true) return true
    if (verdict === false || verdict === undefined || verdict === null) {
      throw new PresignError('forbidden', 'You are not allowed to do this.')
    }
    if (typeof verdict !== 'object' || typeof verdict.id !== 'string' || verdict.id.length === 0) {
      throw new TypeError('[s3-presign-middleware] `authorize` must return `{ id: string, ... }`, `true` or `false`.')
    }
    return verdict
  }

  /** Follow-up calls: the token must be intact, alive, and the caller the one who started. */
  async function resume(action: Action, token: unknown, request: Req) {
    const claims = tokens.open(token)
    const identity = await authorize(action, request, { key: claims.k })
    if (idOf(identity) !== claims.i) {
      throw new PresignError('identity_mismatch', 'This upload belongs to another user.')
    }
    return { claims, identity }
  }

  function expiresAt(seconds: number) {
    return new Date(Date.now() + seconds * 1000).toISOString()
  }

  /** What every new upload starts with: a checked file, an authorized caller, a valid key. */
  async function begin(file: FileInfo, request: Req) {
    const identity = await authorize('upload', request, { file })
    if (file.size > o.maxFileSize) {
      throw new PresignError('file_too_large', `This file is ${formatBytes(file.size)}; the limit is ${formatBytes(o.maxFileSize)}.`)
    }
    if (!typeAllowed(file.contentType)) {
      throw new PresignError('content_type_not_allowed', `Files of type ${file.contentType} are not allowed.`)
    }
    const key = o.keyFor ? await o.keyFor({ request, identity: identity as Id | true, file }) : defaultKey(o.keyPrefix, file.filename)
    assertValidKey(key)
    return { identity, key, nonce: tags.seal(idOf(identity)) }
  }

  /** Starts a multipart upload on S3; `size` is -1 when the client does not say (Uppy). */
  async function startMultipart(file: FileInfo, request: Req, checksum?: string) {
    const { identity, key, nonce } = await begin(file, request)
    const created = await s3((options) =>
      client.send(
        new CreateMultipartUploadCommand({
          Bucket: o.bucket,
          Key: key,
          ContentType: file.contentType,
          Metadata: { ...file.metadata, [NONCE_METADATA]: nonce },
          ...(checksum ? { ChecksumAlgorithm: 'SHA256' } : {}),
        }),
        options,
      ),
    )
    if (!created.UploadId) throw new PresignError('storage_error', 'The storage service did not start the upload.')
    const partSize = file.size >= 0 ? partSizeFor(file.size, o.partSize) : undefined
    const claims: UploadClaims = {
      k: key,
      u: created.UploadId,
      s: file.size,
      t: file.contentType,
      i: idOf(identity),
      n: nonce,
      e: Math.floor(Date.now() / 1000) + o.tokenExpiresIn,
      ...(partSize ? { p: partSize } : {}),
      ...(checksum ? { c: checksum } : {}),
    }
    return { claims, token: tokens.seal(claims) }
  }

  async function create(body: unknown, request: Req): Promise<CreateResponse> {
    const input = asObject(body)
    const file: FileInfo = {
      filename: asString(input.filename, 'filename'),
      contentType: asContentType(input.contentType),
      size: asSize(input.size),
      metadata: asMetadata(input.metadata),
    }
    const checksum = asChecksum(input.checksum)

    if (file.size > o.multipartThreshold && file.size > 0) {
      const { claims, token } = await startMultipart(file, request, checksum)
      const partSize = claims.p!
      return {
        strategy: 'multipart',
        token,
        key: claims.k,
        partSize,
        partCount: partCountFor(file.size, partSize),
        expiresAt: new Date(claims.e * 1000).toISOString(),
      }
    }

    const { identity, key, nonce } = await begin(file, request)
    if (file.size > singleLimit) {
      throw new PresignError('file_too_large', `This file is ${formatBytes(file.size)}; the limit is ${formatBytes(singleLimit)}.`)
    }
    const claims: UploadClaims = {
      k: key,
      s: file.size,
      t: file.contentType,
      i: idOf(identity),
      n: nonce,
      e: Math.floor(Date.now() / 1000) + o.tokenExpiresIn,
      ...(checksum ? { c: checksum } : {}),
    }
    const { url, headers } = await signer.putObject(
      {
        key,
        contentType: file.contentType,
        size: file.size,
        ifNoneMatch: !o.overwrite,
        metadata: { ...file.metadata, [NONCE_METADATA]: nonce },
        ...(checksum ? { checksum } : {}),
      },
      o.expiresIn,
    )
    return { strategy: 'single', token: tokens.seal(claims), key, method: 'PUT', url, headers, expiresAt: expiresAt(o.expiresIn) }
  }

  function multipartOf(claims: UploadClaims): string {
    if (!claims.u) throw bad('This is not a multipart upload.')
    return claims.u
  }

  /** The highest part number this upload may sign: S3 itself then refuses any other. */
  function partLimit(claims: UploadClaims): number {
    if (claims.s >= 0 && claims.p) return partCountFor(claims.s, claims.p)
    return Math.min(MAX_PARTS, Math.max(1, Math.ceil(o.maxFileSize / MIN_PART_SIZE)))
  }

  /** Signs one part URL. With a declared size its exact length is signed, so S3 refuses more. */
  function signPart(claims: UploadClaims, partNumber: number, checksum?: string) {
    const uploadId = multipartOf(claims)
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > partLimit(claims)) {
      throw bad(`Part numbers run from 1 to ${partLimit(claims)} for this upload.`)
    }
    const size = claims.s >= 0 && claims.p ? partLength(partNumber, claims.s, claims.p) : undefined
    return signer.uploadPart({ key: claims.k, uploadId, partNumber, ...(size === undefined ? {} : { size }), ...(checksum ? { checksum } : {}) }, o.expiresIn)
  }

  async function signParts(body: unknown, request: Req): Promise<SignPartsResponse> {
    const input = asObject(body)
    const { claims } = await resume('upload', input.token, request)
    multipartOf(claims)
    const numbers = input.partNumbers
    if (!Array.isArray(numbers) || numbers.length === 0 || numbers.length > MAX_PARTS) {
      throw bad(`\`partNumbers\` must be a list of 1 to ${MAX_PARTS} part numbers.`)
    }
    const checksums = input.checksums === undefined ? {} : asObject(input.checksums)
    const parts = await Promise.all(
      numbers.map(async (partNumber) => {
        const checksum = asChecksum(checksums[String(partNumber)], `checksums.${String(partNumber)}`)
        const { url, headers } = await signPart(claims, partNumber as number, checksum)
        return { partNumber: partNumber as number, url, headers }
      }),
    )
    return { parts }
  }

  /** Every part S3 holds for the upload, following ListParts pages. */
  async function partsOnS3(claims: UploadClaims): Promise<Part[]> {
    const uploadId = multipartOf(claims)
    const parts: Part[] = []
    let marker: string | undefined
    do {
      const page = await s3((options) =>
        client.send(new ListPartsCommand({ Bucket: o.bucket, Key: claims.k, UploadId: uploadId, PartNumberMarker: marker }), options),
      ).catch((error: unknown) => {
        // RGW says NoSuchKey where AWS says NoSuchUpload.
        if (notFound(error)) throw new PresignError('upload_not_found', 'This upload no longer exists on storage (completed or aborted).')
        throw error
      })
      parts.push(...(page.Parts ?? []))
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined
    } while (marker)
    return parts
  }

  async function listParts(body: unknown, request: Req): Promise<ListPartsResponse> {
    const { claims } = await resume('upload', asObject(body).token, request)
    const parts = await partsOnS3(claims)
    return { parts: parts.map((p) => ({ partNumber: p.PartNumber ?? 0, etag: p.ETag ?? '', size: p.Size ?? 0 })) }
  }

  async function abortUpload(claims: UploadClaims) {
    await s3((options) =>
      client.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: claims.k, UploadId: claims.u }), options),
    ).catch((error: unknown) => {
      if (!notFound(error)) throw error // already gone: aborting is idempotent
    })
  }

  /**
   * Finishes a multipart upload after checking, from what S3 itself reports, that every part
   * is there and that the whole is no larger than declared and than `maxFileSize`; an upload
   * that is too large is aborted. Returns the object's size.
   */
  async function finishMultipart(claims: UploadClaims): Promise<number> {
    let parts: Part[]
    try {
      parts = await partsOnS3(claims)
    } catch (error) {
      // Already completed (a retried complete): the object, if it is ours, is verified below.
      if (isPresignError(error) && error.code === 'upload_not_found') return claims.s
      throw error
    }
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0))
    const total = parts.reduce((sum, p) => sum + (p.Size ?? 0), 0)
    const limit = claims.s >= 0 ? Math.min(claims.s, o.maxFileSize) : o.maxFileSize
    if (total > limit) {
      await abortUpload(claims)
      throw new PresignError('file_too_large', `The uploaded parts add up to ${formatBytes(total)}, over the limit of ${formatBytes(limit)}; the upload was aborted.`)
    }
    const expected = claims.s >= 0 && claims.p ? partCountFor(claims.s, claims.p) : parts.length
    const missing = parts.length === 0 || parts.length !== expected || parts.some((p, i) => p.PartNumber !== i + 1)
    if (missing || (claims.s >= 0 && total !== claims.s)) {
      throw new PresignError('verification_failed', `Storage holds ${parts.length} of ${expected} parts (${formatBytes(total)}); upload the missing parts, then complete again.`)
    }
    if (!o.overwrite) await refuseExisting(claims)
    try {
      await s3((options) =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: o.bucket,
            Key: claims.k,
            UploadId: claims.u,
            MultipartUpload: {
              Parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag, ...(p.ChecksumSHA256 ? { ChecksumSHA256: p.ChecksumSHA256 } : {}) })),
            },
            ...(o.overwrite ? {} : { IfNoneMatch: '*' }),
          }),
          options,
        ),
      )
    } catch (error) {
      if (isPresignError(error) && s3Code(error.cause) === 'PreconditionFailed') {
        await abortUpload(claims)
        throw exists()
      }
      throw error
    }
    return total
  }

  /**
   * Stores that ignore `If-None-Match` on CompleteMultipartUpload would replace an object:
   * look first. (A writer racing between this HEAD and the completion is not caught on such a
   * store; AWS enforces the condition itself.)
   */
  async function refuseExisting(claims: UploadClaims) {
    const head = await s3((options) => client.send(new HeadObjectCommand({ Bucket: o.bucket, Key: claims.k }), options)).catch(
      (error: unknown) => {
        if (notFound(error)) return undefined
        throw error
      },
    )
    if (head && head.Metadata?.[NONCE_METADATA] !== claims.n) {
      await abortUpload(claims)
      throw exists()
    }
  }

  /**
   * Checks that the object at the token's key is this upload's, of the declared size, type
   * and checksum. A mismatching object that this upload wrote is deleted; one it did not
   * write (e.g. the object an overwrite was refused for) is never touched.
   */
  async function verify(claims: UploadClaims, size: number): Promise<HeadObjectCommandOutput> {
    const head = await s3((options) =>
      client.send(new HeadObjectCommand({ Bucket: o.bucket, Key: claims.k, ...(claims.c && !claims.u ? { ChecksumMode: 'ENABLED' } : {}) }), options),
    ).catch((error: unknown) => {
      if (notFound(error)) throw new PresignError('verification_failed', 'The file has not been uploaded to storage.')
      throw error
    })
    if (head.Metadata?.[NONCE_METADATA] !== claims.n) {
      throw new PresignError('verification_failed', 'The object at this key was not written by this upload.')
    }
    const problem =
      head.ContentLength !== size
        ? `The uploaded file is ${head.ContentLength ?? 0} bytes, not the ${size} bytes declared.`
        : head.ContentType !== claims.t
          ? `The uploaded file's type is ${head.ContentType ?? 'missing'}, not the declared ${claims.t}.`
          : claims.c && !claims.u && head.ChecksumSHA256 && head.ChecksumSHA256 !== claims.c
            ? "The uploaded file's checksum does not match the declared one."
            : undefined
    if (problem) {
      await s3((options) => client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: claims.k }), options))
      throw new PresignError('verification_failed', `${problem} It was removed.`)
    }
    return head
  }

  /** `complete` for a token already opened and checked: shared by `/complete` and Uppy. */
  async function completeUpload(claims: UploadClaims, identity: Id | true, request: Req): Promise<CompleteResponse<Result>> {
    const size = claims.u ? await finishMultipart(claims) : claims.s
    const head = await verify(claims, size >= 0 ? size : (await headSize(claims)))
    const { [NONCE_METADATA]: _nonce, ...metadata } = head.Metadata ?? {}
    const etag = head.ETag ?? ''
    const verifiedSize = head.ContentLength ?? size
    const result = o.onComplete
      ? await o.onComplete({ request, identity, key: claims.k, size: verifiedSize, contentType: claims.t, etag, metadata, source: 'complete' })
      : undefined
    return { key: claims.k, size: verifiedSize, contentType: claims.t, etag, result: (result ?? null) as Result }
  }

  /** The size of an upload whose size was never declared (Uppy), once it is complete. */
  async function headSize(claims: UploadClaims): Promise<number> {
    const head = await s3((options) => client.send(new HeadObjectCommand({ Bucket: o.bucket, Key: claims.k }), options)).catch(
      (error: unknown) => {
        if (notFound(error)) throw new PresignError('verification_failed', 'The file has not been uploaded to storage.')
        throw error
      },
    )
    return head.ContentLength ?? 0
  }

  async function complete(body: unknown, request: Req): Promise<CompleteResponse<Result>> {
    const { claims, identity } = await resume('complete', asObject(body).token, request)
    return completeUpload(claims, identity as Id | true, request)
  }

  async function abort(body: unknown, request: Req): Promise<Record<string, never>> {
    const { claims } = await resume('abort', asObject(body).token, request)
    if (claims.u) await abortUpload(claims)
    return {}
  }

  async function download(body: unknown, request: Req): Promise<DownloadResponse> {
    const key = asObject(body).key
    assertValidKey(key)
    await authorize('download', request, { key })
    const url = await signer.getObject(key, o.expiresIn)
    return { url, expiresAt: expiresAt(o.expiresIn) }
  }

  async function eventObject(key: string): Promise<S3EventOutcome<Result>> {
    const head = await s3((options) => client.send(new HeadObjectCommand({ Bucket: o.bucket, Key: key }), options)).catch(
      (error: unknown) => {
        if (notFound(error)) return undefined
        throw error
      },
    )
    if (!head) return { key, status: 'ignored', reason: 'The object no longer exists.' }
    const tag = tags.open(head.Metadata?.[NONCE_METADATA])
    if (!tag) return { key, status: 'ignored', reason: 'The object was not uploaded through s3-presign-middleware.' }
    const size = head.ContentLength ?? 0
    const contentType = head.ContentType ?? ''
    const problem = keyProblem(key) ?? (size > o.maxFileSize ? 'It is over maxFileSize.' : !typeAllowed(contentType) ? 'Its type is not allowed.' : undefined)
    if (problem) {
      await s3((options) => client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: key }), options))
      return { key, status: 'rejected', reason: `${problem} It was removed.` }
    }
    const { [NONCE_METADATA]: _nonce, ...metadata } = head.Metadata ?? {}
    const result = o.onComplete
      ? await o.onComplete({
          request: undefined as Req,
          identity: (tag.i === null ? true : { id: tag.i }) as Id | true,
          key,
          size,
          contentType,
          etag: head.ETag ?? '',
          metadata,
          source: 'event',
        })
      : undefined
    return { key, status: 'completed', result: (result ?? null) as Result }
  }

  async function handleS3Event(event: unknown): Promise<S3EventOutcome<Result>[]> {
    const outcomes: S3EventOutcome<Result>[] = []
    for (const { bucket, key } of createdObjects(event)) {
      if (bucket === o.bucket) outcomes.push(await eventObject(key))
    }
    return outcomes
  }

  type Route = (req: CoreRequest<Req>, params: Record<string, string>) => Promise<CoreResponse>
  const json = (body: unknown, status = 200): CoreResponse => ({ status, headers: { ...JSON_HEADERS }, body })
  const post = (action: (body: unknown, request: Req) => Promise<unknown>): Route => async (req) =>
    json(await action(await req.readBody(), req.request))

  const routes: Array<[pattern: string, methods: Partial<Record<string, Route>>]> = [
    ['/create', { POST: post(create) }],
    ['/sign-parts', { POST: post(signParts) }],
    ['/list-parts', { POST: post(listParts) }],
    ['/complete', { POST: post(complete) }],
    ['/abort', { POST: post(abort) }],
    [
      '/download',
      {
        POST: post(download),
        GET: async (req) => {
          const { url } = await download({ key: req.query.get('key') ?? undefined }, req.request)
          return { status: 302, headers: { location: url, 'cache-control': 'no-store' } }
        },
      },
    ],
    ...uppyRoutes<Req, Result>({
      json,
      resume,
      startMultipart,
      begin,
      signPart,
      partsOnS3,
      abortUpload,
      completeUpload: (claims, identity, request) => completeUpload(claims, identity as Id | true, request),
      signer,
      options: o,
    }),
  ]
  const match = compileRoutes(routes)

  async function handle(req: CoreRequest<Req>): Promise<CoreResponse | undefined> {
    const path = req.path.length > 1 && req.path.endsWith('/') ? req.path.slice(0, -1) : req.path
    const found = match(path)
    if (!found) return undefined
    const { methods, params } = found
    const route = methods[req.method.toUpperCase()]
    try {
      if (!route) {
        const allow = Object.keys(methods).join(', ')
        const error = new PresignError('method_not_allowed', `Use ${allow} for ${path}.`)
        return { ...json(error.toJSON(), error.status), headers: { ...JSON_HEADERS, allow } }
      }
      return await route(req, params)
    } catch (error) {
      if (isPresignError(error)) return json(error.toJSON() satisfies ErrorBody, error.status)
      throw error
    }
  }

  return { handle, create, signParts, listParts, complete, abort, download, handleS3Event }
}

/** Whether S3 answered 404 to a call made through `s3()`. */
function notFound(error: unknown): boolean {
  return s3Status(isPresignError(error) ? error.cause : error) === 404
}

function exists() {
  return new PresignError('already_exists', 'A file already exists at this key; it was not replaced.')
}

/** Patterns like `/s3/multipart/:uploadId/:partNumber`, matched segment by segment. */
function compileRoutes<M>(routes: Array<[string, M]>) {
  const compiled = routes.map(([pattern, methods]) => ({ segments: pattern.split('/'), methods }))
  return (path: string): { methods: M; params: Record<string, string> } | undefined => {
    const segments = path.split('/')
    for (const route of compiled) {
      if (route.segments.length !== segments.length) continue
      const params: Record<string, string> = {}
      const ok = route.segments.every((segment, i) => {
        if (!segment.startsWith(':')) return segment === segments[i]
        try {
          params[segment.slice(1)] = decodeURIComponent(segments[i]!)
        } catch {
          return false
        }
        return segments[i] !== ''
      })
      if (ok) return { methods: route.methods, params }
    }
    return undefined
  }
}

function idOf(identity: Identity | true): string | null {
  return identity === true ? null : identity.id
}

/**
 * `authorize` refused by throwing. A `PresignError`, or an error with a 4xx `status`
 * (Koa's `ctx.throw(401)`, http-errors), keeps its status and message; anything else is a
 * plain 403 so that internals never reach the client.
 */
function refusal(error: unknown): PresignError {
  if (isPresignError(error)) return error
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode
  const message = (error as { message?: unknown } | null)?.message
  const expose = (error as { expose?: unknown } | null)?.expose !== false
  const safe = typeof message === 'string' && message.length > 0 && expose ? message : undefined
  if (status === 401) return new PresignError('unauthorized', safe ?? 'Log in to do this.', { cause: error })
  if (typeof status === 'number' && status >= 400 && status < 500 && safe) {
    return new PresignError('forbidden', safe, { cause: error })
  }
  return new PresignError('forbidden', 'You are not allowed to do this.', { cause: error })
}

