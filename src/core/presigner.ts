import type { CompleteResponse, CreateResponse, DownloadResponse, ListPartsResponse, SignPartsResponse } from '../wire'
import { abort, complete } from './complete'
import { createContext } from './context'
import { create } from './create'
import { download } from './download'
import { type S3EventOutcome, handleS3Event } from './events'
import { listParts, signParts } from './multipart'
import type { Identity, PresignOptions } from './options'
import { type CoreRequest, type CoreResponse, createHandler } from './routes'

export type { CoreRequest, CoreResponse } from './routes'
export type { S3EventOutcome } from './events'

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
  const ctx = createContext(options)
  return {
    handle: createHandler(ctx),
    create: (body, request) => create(ctx, body, request),
    signParts: (body, request) => signParts(ctx, body, request),
    listParts: (body, request) => listParts(ctx, body, request),
    complete: (body, request) => complete(ctx, body, request),
    abort: (body, request) => abort(ctx, body, request),
    download: (body, request) => download(ctx, body, request),
    handleS3Event: (event) => handleS3Event(ctx, event),
  }
}
