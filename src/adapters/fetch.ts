import { PresignError } from '../core/errors'
import { createPresigner } from '../core/presigner'
import type { Identity, PresignOptions } from '../core/options'
import { readFetchJson } from './_body'
import { type PrefixOption, normalizePrefix, stripPrefix } from './_prefix'

export { PresignError, isPresignError } from '../core/errors'
export type { PresignOptions } from '../core/options'

export interface FetchPresignOptions<Id extends Identity | true = Identity | true, Result = unknown>
  extends PresignOptions<Request, Id, Result>,
    PrefixOption {}

/**
 * A `(Request) => Promise<Response>` handler for Hono, Next.js route handlers, Bun and Deno.
 * Paths outside the routes answer 404 JSON; unexpected errors are thrown to the host.
 *
 * @example
 * const handler = createFetchHandler({ prefix: '/uploads', bucket: 'uploads', secret, authorize: () => true })
 * app.all('/uploads/*', (c) => handler(c.req.raw))   // Hono
 */
export function createFetchHandler<Id extends Identity | true = Identity | true, Result = unknown>(
  options: FetchPresignOptions<Id, Result>,
) {
  const prefix = normalizePrefix(options?.prefix)
  const presigner = createPresigner(options)

  return async function presignFetchHandler(request: Request): Promise<Response> {
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
            request,
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
}
