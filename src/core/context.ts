import type { S3Client } from '@aws-sdk/client-s3'
import { formatBytes } from './_input'
import { PresignError, isPresignError } from './errors'
import { assertValidKey, contentTypeMatcher, defaultKey } from './keys'
import { type Action, type FileInfo, type Identity, type PresignOptions, type ResolvedOptions, resolveOptions } from './options'
import { createClients, s3Status, storageError } from './s3'
import { createFastSigner } from './fast-signer'
import type { Signer } from './sign'
import { type ObjectTagger, type TokenSealer, type UploadClaims, createObjectTagger, createTokenSealer } from './token'

/**
 * Everything built once from the options, shared by every action: the per-request path only
 * handles the request.
 */
export interface Context<Req = any, Id extends Identity = any, Result = any> {
  o: ResolvedOptions<Req, Id, Result>
  client: S3Client
  signer: Signer
  tokens: TokenSealer
  tags: ObjectTagger
  typeAllowed: (contentType: string) => boolean
  /** Runs one S3 call with the timeout; failures become 502/503/504 `PresignError`s. */
  s3<T>(call: (client: S3Client, options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T>
}

export function createContext<Req, Id extends Identity, Result>(options: PresignOptions<Req, Id, Result>): Context<Req, Id, Result> {
  const o = resolveOptions(options)
  const { client, signingConfig } = createClients(o.s3, o.region, o.timeout)
  return {
    o,
    client,
    signer: createFastSigner(o.bucket, signingConfig),
    tokens: createTokenSealer(o.secrets),
    tags: createObjectTagger(o.secrets),
    typeAllowed: contentTypeMatcher(o.allowedContentTypes),
    async s3(call) {
      try {
        return await call(client, { abortSignal: AbortSignal.timeout(o.timeout) })
      } catch (error) {
        throw storageError(error)
      }
    },
  }
}

export function idOf(identity: Identity | true): string | null {
  return identity === true ? null : identity.id
}

/** Whether S3 answered 404 to a call made through `ctx.s3()`. */
export function notFound(error: unknown): boolean {
  return s3Status(isPresignError(error) ? error.cause : error) === 404
}

export function expiresAt(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString()
}

export async function authorize<Req, Id extends Identity>(
  ctx: Context<Req, Id, any>,
  action: Action,
  request: Req,
  extra: { key?: string; file?: FileInfo },
): Promise<Id | true> {
  let verdict: Id | boolean
  try {
    verdict = await ctx.o.authorize({ action, request, ...extra })
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
export async function resume<Req, Id extends Identity>(ctx: Context<Req, Id, any>, action: Action, token: unknown, request: Req) {
  const claims: UploadClaims = ctx.tokens.open(token)
  const identity = await authorize(ctx, action, request, { key: claims.k })
  if (idOf(identity) !== claims.i) {
    throw new PresignError('identity_mismatch', 'This upload belongs to another user.')
  }
  return { claims, identity }
}

/**
 * What every new upload starts with: an authorized caller, a file within the rules, a valid key,
 * and the claims its token will seal (strategies add theirs).
 */
export async function begin<Req, Id extends Identity>(ctx: Context<Req, Id, any>, file: FileInfo, request: Req) {
  const { o } = ctx
  const identity = await authorize(ctx, 'upload', request, { file })
  if (file.size > o.maxFileSize) {
    throw new PresignError('file_too_large', `This file is ${formatBytes(file.size)}; the limit is ${formatBytes(o.maxFileSize)}.`)
  }
  if (!ctx.typeAllowed(file.contentType)) {
    throw new PresignError('content_type_not_allowed', `Files of type ${file.contentType} are not allowed.`)
  }
  const key = o.keyFor ? await o.keyFor({ request, identity, file }) : defaultKey(o.keyPrefix, file.filename)
  assertValidKey(key)
  const claims: UploadClaims = {
    k: key,
    s: file.size,
    t: file.contentType,
    i: idOf(identity),
    n: ctx.tags.seal(idOf(identity)),
    e: Math.floor(Date.now() / 1000) + o.tokenExpiresIn,
  }
  return { identity, claims }
}

/**
 * `authorize` refused by throwing. A `PresignError`, or an error with a 4xx `status`
 * (Koa's `ctx.throw(401)`, http-errors), keeps its status and message; anything else is a
 * plain 403 so that internals never reach the client.
 */
function refusal(error: unknown): PresignError {
  if (isPresignError(error)) return error
  const e = (error ?? {}) as { status?: unknown; statusCode?: unknown; message?: unknown; expose?: unknown }
  const status = e.status ?? e.statusCode
  const safe = typeof e.message === 'string' && e.message.length > 0 && e.expose !== false ? e.message : undefined
  if (status === 401) return new PresignError('unauthorized', safe ?? 'Log in to do this.', { cause: error })
  if (typeof status === 'number' && status >= 400 && status < 500 && safe) {
    return new PresignError('forbidden', safe, { cause: error })
  }
  return new PresignError('forbidden', 'You are not allowed to do this.', { cause: error })
}
