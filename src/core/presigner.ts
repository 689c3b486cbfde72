import { randomBytes } from 'node:crypto'
import { DeleteObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput } from '@aws-sdk/client-s3'
import type {
  CompleteResponse,
  CreateResponse,
  DownloadResponse,
  ErrorBody,
} from '../wire'
import { NONCE_METADATA, asChecksum, asContentType, asMetadata, asObject, asSize, asString, formatBytes } from './_input'
import { PresignError, isPresignError } from './errors'
import { assertValidKey, contentTypeMatcher, defaultKey } from './keys'
import { type Action, type FileInfo, type Identity, type PresignOptions, MAX_SINGLE_SIZE, resolveOptions } from './options'
import { createClients, s3Status, storageError } from './s3'
import { createSdkSigner } from './sign'
import { type UploadClaims, createTokenSealer } from './token'

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
  /** `POST /complete` without HTTP. */
  complete(body: unknown, request: Req): Promise<CompleteResponse<Result>>
  /** `POST /download` without HTTP. */
  download(body: unknown, request: Req): Promise<DownloadResponse>
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
  const typeAllowed = contentTypeMatcher(o.allowedContentTypes)
  const singleLimit = Math.min(o.maxFileSize, MAX_SINGLE_SIZE)

  /** Runs one S3 call with the timeout; failures become 502/503/504 `PresignError`s. */
  async function s3<T>(call: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
    try {
      return await call({ abortSignal: AbortSignal.timeout(o.timeout) })
    } catch (error) {
      throw s3Status(error) === 404 ? error : storageError(error)
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

  async function create(body: unknown, request: Req): Promise<CreateResponse> {
    const input = asObject(body)
    const file: FileInfo = {
      filename: asString(input.filename, 'filename'),
      contentType: asContentType(input.contentType),
      size: asSize(input.size),
      metadata: asMetadata(input.metadata),
    }
    const checksum = asChecksum(input.checksum)
    const identity = await authorize('upload', request, { file })

    if (file.size > o.maxFileSize) {
      throw new PresignError('file_too_large', `This file is ${formatBytes(file.size)}; the limit is ${formatBytes(o.maxFileSize)}.`)
    }
    if (!typeAllowed(file.contentType)) {
      throw new PresignError('content_type_not_allowed', `Files of type ${file.contentType} are not allowed.`)
    }
    if (file.size > o.multipartThreshold) {
      throw new PresignError(
        'file_too_large',
        `This file is ${formatBytes(file.size)}; uploads above ${formatBytes(o.multipartThreshold)} need multipart, which this server does not offer yet.`,
      )
    }
    if (file.size > singleLimit) {
      throw new PresignError('file_too_large', `This file is ${formatBytes(file.size)}; the limit is ${formatBytes(singleLimit)}.`)
    }

    const key = o.keyFor ? await o.keyFor({ request, identity: identity as Id | true, file }) : defaultKey(o.keyPrefix, file.filename)
    assertValidKey(key)

    const claims: UploadClaims = {
      k: key,
      s: file.size,
      t: file.contentType,
      i: idOf(identity),
      n: randomBytes(12).toString('base64url'),
      e: Math.floor(Date.now() / 1000) + o.tokenExpiresIn,
      ...(checksum ? { c: checksum } : {}),
    }
    const { url, headers } = await signer.putObject(
      {
        key,
        contentType: file.contentType,
        size: file.size,
        ifNoneMatch: !o.overwrite,
        metadata: { ...file.metadata, [NONCE_METADATA]: claims.n },
        ...(checksum ? { checksum } : {}),
      },
      o.expiresIn,
    )
    return { strategy: 'single', token: tokens.seal(claims), key, method: 'PUT', url, headers, expiresAt: expiresAt(o.expiresIn) }
  }

  /**
   * Checks that the object at the token's key is this upload's, of the declared size, type
   * and checksum. A mismatching object that this upload wrote is deleted; one it did not
   * write (e.g. the object an overwrite was refused for) is never touched.
   */
  async function verify(claims: UploadClaims): Promise<HeadObjectCommandOutput> {
    const head = await s3((options) =>
      client.send(new HeadObjectCommand({ Bucket: o.bucket, Key: claims.k, ...(claims.c ? { ChecksumMode: 'ENABLED' } : {}) }), options),
    ).catch((error: unknown) => {
      if (s3Status(error) === 404) throw new PresignError('verification_failed', 'The file has not been uploaded to storage.')
      throw error
    })
    if (head.Metadata?.[NONCE_METADATA] !== claims.n) {
      throw new PresignError('verification_failed', 'The object at this key was not written by this upload.')
    }
    const problem =
      head.ContentLength !== claims.s
        ? `The uploaded file is ${head.ContentLength ?? 0} bytes, not the ${claims.s} bytes declared.`
        : head.ContentType !== claims.t
          ? `The uploaded file's type is ${head.ContentType ?? 'missing'}, not the declared ${claims.t}.`
          : claims.c && head.ChecksumSHA256 && head.ChecksumSHA256 !== claims.c
            ? "The uploaded file's checksum does not match the declared one."
            : undefined
    if (problem) {
      await s3((options) => client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: claims.k }), options))
      throw new PresignError('verification_failed', `${problem} It was removed.`)
    }
    return head
  }

  async function complete(body: unknown, request: Req): Promise<CompleteResponse<Result>> {
    const input = asObject(body)
    const { claims, identity } = await resume('complete', input.token, request)
    const head = await verify(claims)
    const { [NONCE_METADATA]: _nonce, ...metadata } = head.Metadata ?? {}
    const etag = head.ETag ?? ''
    const result = o.onComplete
      ? await o.onComplete({
          request,
          identity: identity as Id | true,
          key: claims.k,
          size: claims.s,
          contentType: claims.t,
          etag,
          metadata,
          source: 'complete',
        })
      : undefined
    return { key: claims.k, size: claims.s, contentType: claims.t, etag, result: (result ?? null) as Result }
  }

  async function download(body: unknown, request: Req): Promise<DownloadResponse> {
    const key = asObject(body).key
    assertValidKey(key)
    await authorize('download', request, { key })
    const url = await signer.getObject(key, o.expiresIn)
    return { url, expiresAt: expiresAt(o.expiresIn) }
  }

  type Route = (req: CoreRequest<Req>) => Promise<CoreResponse>
  const json = (body: unknown, status = 200): CoreResponse => ({ status, headers: { ...JSON_HEADERS }, body })
  const post = (action: (body: unknown, request: Req) => Promise<unknown>): Route => async (req) =>
    json(await action(await req.readBody(), req.request))

  const routes: Record<string, Partial<Record<string, Route>>> = {
    '/create': { POST: post(create) },
    '/complete': { POST: post(complete) },
    '/download': {
      POST: post(download),
      GET: async (req) => {
        const { url } = await download({ key: req.query.get('key') ?? undefined }, req.request)
        return { status: 302, headers: { location: url, 'cache-control': 'no-store' } }
      },
    },
  }

  async function handle(req: CoreRequest<Req>): Promise<CoreResponse | undefined> {
    const path = req.path.length > 1 && req.path.endsWith('/') ? req.path.slice(0, -1) : req.path
    const methods = routes[path]
    if (!methods) return undefined
    const route = methods[req.method.toUpperCase()]
    try {
      if (!route) {
        const error = new PresignError('method_not_allowed', `Use ${Object.keys(methods).join(' or ')} for ${path}.`)
        return { ...json(error.toJSON(), error.status), headers: { ...JSON_HEADERS, allow: Object.keys(methods).join(', ') } }
      }
      return await route(req)
    } catch (error) {
      if (isPresignError(error)) return json(error.toJSON() satisfies ErrorBody, error.status)
      throw error
    }
  }

  return { handle, create, complete, download }
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

