import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createPresigner } from '../core/presigner'
import type { Identity, PresignOptions } from '../core/options'
import { readNodeJson } from './_body'
import { normalizePrefix, splitUrl, stripPrefix } from './_prefix'

export { PresignError, isPresignError } from '../core/errors'
export type { PresignOptions } from '../core/options'

/** The plugin's options: the same as every adapter's; the mount path is Fastify's own `prefix`. */
export type FastifyPresignOptions<Id extends Identity | true = Identity | true, Result = unknown> = PresignOptions<
  FastifyRequest,
  Id,
  Result
>

// Every method a route could be asked with, so a wrong one gets the core's 405 with `Allow`
// (HEAD comes with GET). Not OPTIONS: CORS preflights stay with the app's CORS plugin.
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/**
 * Fastify 4 and 5 plugin serving every upload route under the `prefix` it is registered with.
 * Hooks receive the `FastifyRequest` as `request`; unexpected errors go to Fastify's error
 * handler; paths that are not a route get Fastify's 404.
 *
 * `ctx.identity` is typed `Identity | true`; name your own type with `presignPlugin<User>`.
 *
 * @example
 * fastify.register(presignPlugin, { prefix: '/uploads', bucket: 'uploads', secret, authorize: ({ request }) => request.user ?? false })
 * fastify.register(presignPlugin<User>, { prefix: '/uploads', ... })   // identity: User | true
 */
export function presignPlugin<Id extends Identity | true, Result = unknown>(
  fastify: FastifyInstance,
  options: FastifyPresignOptions<Id, Result>,
): Promise<void>
// The non-generic signature comes last because `fastify.register` infers the options from the
// last one: a generic plugin would leave the hooks' parameters untyped (implicit any).
export function presignPlugin(fastify: FastifyInstance, options: FastifyPresignOptions): Promise<void>
export async function presignPlugin(fastify: FastifyInstance, options: FastifyPresignOptions): Promise<void> {
  const presigner = createPresigner(options)
  const prefix = normalizePrefix(fastify.prefix)

  // Our routes read their own bodies (1 MiB, JSON Content-Type required: SPEC §5.10), so every
  // answer is the package's JSON whatever parsers the app registered, and a form or text/plain
  // body is never parsed here. Scoped: the plugin is encapsulated (no `fastify-plugin`), so the
  // app's parsers keep serving its own routes.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null))

  fastify.route({
    method: METHODS,
    url: '/*',
    handler: async function presignRoute(request: FastifyRequest, reply: FastifyReply) {
      // The path below the prefix exactly as the client sent it (SPEC §5.11): the router decodes
      // what it matches on (`%2e%2e` is `..` to it), the raw URL keeps it.
      const { path: full, query } = splitUrl(request.raw.url ?? '/')
      const path = stripPrefix(full, prefix)
      const response =
        path === undefined
          ? undefined
          : await presigner.handle({
              method: request.method,
              path,
              query,
              readBody: () => readNodeJson(request.raw, request.body),
              request,
              mount: prefix,
            })
      if (!response) {
        reply.callNotFound()
        return reply
      }
      return reply
        .code(response.status)
        .headers(response.headers)
        .send(response.body === undefined ? undefined : JSON.stringify(response.body))
    },
  })
}

// Fastify names plugins by this symbol in its logs and errors (`fastify-plugin` would also
// break encapsulation, and the content-type parsers above must not leak into the app).
Object.defineProperty(presignPlugin, Symbol.for('fastify.display-name'), { value: 's3-presign-middleware' })

export default presignPlugin
