import { PresignError } from '../core/errors'
import { createPresigner } from '../core/presigner'
import type { Identity, PresignOptions } from '../core/options'
import { readFetchJson } from './_body'
import { type PrefixOption, normalizePrefix, stripPrefix } from './_prefix'

export { PresignError, isPresignError } from '../core/errors'
export type { PresignOptions } from '../core/options'

/**
 * What the handler is called with, and what the hooks get as `ctx.request`: a fetch `Request`
 * (Next.js, Bun, Deno), or a context that carries one as `req.raw`, such as Hono's `Context`.
 */
export type FetchInput = Request | { req: { raw: Request } }

export interface FetchPresignOptions<Id extends Identity | true = Identity | true, Result = unknown, Req extends FetchInput = Request>
  extends PresignOptions<Req, Id, Result>,
    PrefixOption {}

/**
 * `(request) => Promise<Response>`, also under the names of the HTTP methods its routes answer, so
 * that a Next.js route file exports it as `export const { GET, POST, DELETE } = uploads`.
 */
export interface FetchHandler<Req extends FetchInput = Request> {
  (request: Req): Promise<Response>
  /** The handler itself: `GET /download` and Uppy's `GET /s3/params`, `GET /s3/multipart/...`. */
  readonly GET: (request: Req) => Promise<Response>
  /** The handler itself: the native routes (`POST /create`, ...) and Uppy's `POST /s3/multipart...`. */
  readonly POST: (request: Req) => Promise<Response>
  /** The handler itself: Uppy's `DELETE /s3/multipart/:uploadId` (abort). */
  readonly DELETE: (request: Req) => Promise<Response>
}

/**
 * A fetch handler for Hono, Next.js route handlers, Bun and Deno. Hooks get what it is called with
 * as `ctx.request`: a `Request`, or Hono's `Context` (`app.all('/uploads/*', uploads)`; annotate
 * `authorize`'s parameter, `({ request: c }: { request: Context<Env> })`, to type `c.get(...)`).
 * Paths outside the routes answer 404 JSON; unexpected errors are thrown to the host.
 *
 * Options are checked here, except while `next build` loads route modules (`NEXT_PHASE` is
 * `phase-production-build`, when runtime secrets are usually absent): then at the first request.
 *
 * @example
 * const uploads = createFetchHandler({ prefix: '/uploads', bucket: 'uploads', secret, authorize: () => true })
 * export const { GET, POST, DELETE } = uploads        // Next.js: app/uploads/[...path]/route.ts
 * app.all('/uploads/*', (c) => uploads(c.req.raw))   // Hono, hooks get the Request
 * export default { fetch: uploads }                   // Bun, Cloudflare Workers
 */
export function createFetchHandler<Id extends Identity | true = Identity | true, Result = unknown, Req extends FetchInput = Request>(
  options: FetchPresignOptions<Id, Result, Req>,
): FetchHandler<Req> {
  const configure = () => ({ prefix: normalizePrefix(options?.prefix), presigner: createPresigner(options) })
  let configured = duringNextBuild() ? undefined : configure()

  const handler = async function presignFetchHandler(input: Req): Promise<Response> {
    // Deferred by `next build`: a config error thrown here goes to the host, which logs it and answers 500.
    configured ??= configure()
    const { prefix, presigner } = configured
    const request = requestOf(input)
    const url = new URL(request.url)
    const path = stripPrefix(url.pathname, prefix)
    const response =
      path === undefined
        ? undefined
        : await presigner.handle({
            method: request.method,
            path,
            query: url.searchParams,
            readBody: () => readFetchJson(request),
            mount: prefix,
            request: input,
          })
    if (!response) {
      const error = new PresignError('not_found', `No upload route at ${url.pathname}.`)
      return Response.json(error.toJSON(), { status: error.status })
    }
    return new Response(response.body === undefined ? null : JSON.stringify(response.body), {
      status: response.status,
      headers: response.headers,
    })
  }
  return Object.assign(handler, { GET: handler, POST: handler, DELETE: handler })
}

/** Hono's `Context` carries the request as `c.req.raw`; a `Request` has no `req`. */
function requestOf(input: FetchInput): Request {
  const carried = (input as { req?: { raw?: Request } }).req?.raw
  return typeof carried === 'object' && carried !== null ? carried : (input as Request)
}

/**
 * `next build` imports every route module to collect its config, usually without the runtime's
 * secrets; Next sets `NEXT_PHASE` for that (also under `next start`, to another phase).
 */
function duringNextBuild(): boolean {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NEXT_PHASE === 'phase-production-build'
}
