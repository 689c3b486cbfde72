import type { ErrorBody, ErrorCode } from '../wire'
import { deleteObject, download } from './download'
import { PresignError, isPresignError } from './errors'
import { abort, complete } from './finish'
import { listParts, signParts } from './parts'
import type { Action } from './options'
import type { Core } from './presigner'
import { create } from './start'
import { uppyRoutes } from './uppy-routes'

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
  /**
   * Where the routes are mounted, as the framework routed it (Express `req.baseUrl`, the
   * `prefix` of Koa, fetch and Fastify): tokens issued here are honoured only here (SPEC §5.9).
   */
  mount?: string
}

/** What an adapter writes back. */
export interface CoreResponse {
  status: number
  headers: Record<string, string>
  /** JSON body; absent for redirects. */
  body?: unknown
}

type Route<Req> = (req: CoreRequest<Req>, params: Record<string, string>) => Promise<CoreResponse>
type RouteTable<Req> = Array<[pattern: string, methods: Partial<Record<string, Route<Req>>>]>

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }

/** A JSON response; URLs carry credentials, so nothing is cached. */
function json(body: unknown, status = 200): CoreResponse {
  return { status, headers: { ...JSON_HEADERS }, body }
}

/**
 * Every route, native and Uppy, compiled once. The handler answers `undefined` for a path that
 * is not a route (adapters pass it on); `PresignError`s become JSON error responses; any other
 * error is thrown for the host framework.
 */
export function createHandler<Req>(core: Core<Req>) {
  const post =
    (action: (core: Core<Req>, body: unknown, request: Req, mount?: string) => Promise<unknown>): Route<Req> =>
    async (req) =>
      json(await action(core, await req.readBody(), req.request, req.mount))

  const match = compileRoutes<Req>([
    ['/create', { POST: post(create) }],
    ['/sign-parts', { POST: post(signParts) }],
    ['/list-parts', { POST: post(listParts) }],
    ['/complete', { POST: post(complete) }],
    ['/abort', { POST: post(abort) }],
    ['/delete', { POST: post(deleteObject) }],
    [
      '/download',
      {
        POST: post(download),
        GET: async (req) => {
          const { url } = await download(core, { key: req.query.get('key') ?? undefined }, req.request)
          return { status: 302, headers: { location: url, 'cache-control': 'no-store' } }
        },
      },
    ],
    ...uppyRoutes(core).map(([pattern, methods]): RouteTable<Req>[number] => [
      pattern,
      Object.fromEntries(
        Object.entries(methods).map(([method, route]) => [
          method,
          async (req: CoreRequest<Req>, params: Record<string, string>) => json(await route(req, params)),
        ]),
      ),
    ]),
  ])

  const { onError, route: routeName } = core.config
  /** Tells `onError`; an observer never changes the answer, so its own failure is only logged. */
  const report = (error: unknown, action: Action, status: number, code: ErrorCode) => {
    try {
      onError({ error, code, status, action, ...(routeName ? { route: routeName } : {}) })
    } catch (failure) {
      console.error('[s3-presign-middleware] onError threw:', failure)
    }
  }

  return async function handle(req: CoreRequest<Req>): Promise<CoreResponse | undefined> {
    // Exactly as sent: `/download/` is not `/download` (a host guard on one must cover the other).
    const { path } = req
    const found = match(path)
    if (!found) return undefined
    const method = req.method.toUpperCase()
    const route = found.methods[method]
    const action = actionOf(found.pattern, method)
    try {
      if (found.malformed) throw new PresignError('invalid_request', 'This upload id is not valid percent-encoding.')
      if (!route) {
        const allow = Object.keys(found.methods).join(', ')
        const error = new PresignError('method_not_allowed', `Use ${allow} for ${path}.`)
        return { ...json(error.toJSON(), error.status), headers: { ...JSON_HEADERS, allow } }
      }
      return await route(req, found.params)
    } catch (error) {
      if (isPresignError(error)) {
        report(error, action, error.status, error.code)
        return json(error.toJSON() satisfies ErrorBody, error.status)
      }
      // A hook that threw, or a bug: the host's error handler answers; onError hears of it first.
      report(error, action, 500, 'internal_error')
      throw error
    }
  }
}

/** What `authorize` is asked for on a route: `onError` reports it with every error. */
function actionOf(pattern: string, method: string): Action {
  if (pattern === '/complete' || pattern.endsWith('/complete')) return 'complete'
  if (pattern === '/abort' || (pattern === '/s3/multipart/:uploadId' && method === 'DELETE')) return 'abort'
  if (pattern === '/download') return 'download'
  if (pattern === '/delete') return 'delete'
  return 'upload'
}

/**
 * Patterns like `/s3/multipart/:uploadId/:partNumber`, matched segment by segment on the path as
 * the framework routed it (no dot-segment or `//` resolution: `/x/../create` is not `/create`),
 * first match wins. A parameter that is not valid percent-encoding is a 400, not a miss.
 */
function compileRoutes<Req>(routes: RouteTable<Req>) {
  const compiled = routes.map(([pattern, methods]) => ({ pattern, segments: pattern.split('/'), methods }))
  return (path: string) => {
    const segments = path.split('/')
    for (const route of compiled) {
      if (route.segments.length !== segments.length) continue
      const params: Record<string, string> = {}
      let malformed = false
      const ok = route.segments.every((segment, i) => {
        const actual = segments[i]!
        if (!segment.startsWith(':')) return segment === actual
        if (actual === '') return false
        try {
          params[segment.slice(1)] = decodeURIComponent(actual)
        } catch {
          malformed = true
        }
        return true
      })
      if (ok) return { pattern: route.pattern, methods: route.methods, params, malformed }
    }
    return undefined
  }
}
