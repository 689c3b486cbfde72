import type { CompleteResponse, CreateResponse, DownloadResponse, ListPartsResponse, SignPartsResponse } from '../wire'
import { type Config, resolveConfig } from './config'
import { download } from './download'
import { abort, complete } from './finish'
import type { Identity, PresignOptions } from './options'
import { listParts, signParts } from './parts'
import { type CoreRequest, type CoreResponse, createHandler } from './routes'
import { type S3EventOutcome, completeFromS3Event } from './s3-events'
import { type Signer, createSigner } from './signing/signer'
import { create } from './start'
import { type Storage, createStorage } from './storage'
import { type ObjectTagger, type TokenSealer, createObjectTagger, createTokenSealer } from './token'

export type { CoreRequest, CoreResponse } from './routes'
export type { S3EventOutcome } from './s3-events'

/**
 * Everything built once from the options and shared by every action: the per-request path only
 * handles the request.
 */
export interface Core<Req = any, Id extends Identity = any, Result = any> {
  config: Config<Req, Id, Result>
  storage: Storage
  /** Signs downloads (and resolves object URLs) with the `s3` client's credentials. */
  signer: Signer
  /** Signs upload URLs and POST policies: with `uploadCredentials` when given, else `signer`. */
  uploadSigner: Signer
  tokens: TokenSealer
  tags: ObjectTagger
}

/** The framework-free core. Every method takes the framework's request for the hooks. */
export interface Presigner<Req = unknown, Result = unknown> {
  /**
   * Answers a request to one of the routes, or `undefined` when the path is not one of
   * them (adapters then pass it on). `PresignError`s become JSON error responses; any
   * other error (a bug, a hook that failed) is thrown for the host framework to handle.
   */
  handle(req: CoreRequest<Req>): Promise<CoreResponse | undefined>
  /** `POST /create` without HTTP; throws `PresignError`s. */
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
   * in the bucket that was uploaded through this package (its sealed tag opens) is checked
   * and passed to `onComplete` with `source: 'event'` and `request: undefined`. Objects not
   * uploaded through us are ignored; ones that break the rules are removed.
   * Events also arrive for uploads that did call `complete`: keep `onComplete` idempotent.
   */
  handleS3Event(event: unknown): Promise<S3EventOutcome<Result>[]>
}

/**
 * Validates the options once (throwing prefixed start-up errors), builds the S3 client, the
 * signer and the token sealer, and returns the actions and the route handler.
 *
 * @example
 * const presigner = createPresigner({ bucket: 'uploads', secret: process.env.PRESIGN_SECRET, authorize: () => true })
 * const upload = await presigner.create({ filename: 'a.png', contentType: 'image/png', size: 1234 }, req)
 */
export function createPresigner<Req = unknown, Id extends Identity = Identity, Result = unknown>(
  options: PresignOptions<Req, Id, Result>,
): Presigner<Req, Result> {
  const config = resolveConfig(options)
  const storage = createStorage(config.bucket, config.s3, config.region, config.timeout)
  const signer = createSigner(config.bucket, storage.signingConfig)
  const core: Core<Req, Id, Result> = {
    config,
    storage,
    signer,
    uploadSigner: config.uploadCredentials
      ? createSigner(config.bucket, { ...storage.signingConfig, credentials: config.uploadCredentials })
      : signer,
    tokens: createTokenSealer(config.secrets),
    tags: createObjectTagger(config.secrets),
  }
  return {
    handle: createHandler(core),
    create: (body, request) => create(core, body, request),
    signParts: (body, request) => signParts(core, body, request),
    listParts: (body, request) => listParts(core, body, request),
    complete: (body, request) => complete(core, body, request),
    abort: (body, request) => abort(core, body, request),
    download: (body, request) => download(core, body, request),
    handleS3Event: (event) => completeFromS3Event(core, event),
  }
}

/**
 * `presigner.handleS3Event(event)` as a function, for handlers that get the presigner passed in.
 *
 * @example
 * export const handler = (event) => handleS3Event(presigner, event)   // AWS Lambda on SQS
 */
export function handleS3Event<Result>(presigner: Presigner<any, Result>, event: unknown): Promise<S3EventOutcome<Result>[]> {
  return presigner.handleS3Event(event)
}
