import type { Context, Next } from 'koa'
import { createPresigner } from '../core/presigner'
import type { Identity, PresignOptions } from '../core/options'
import { readNodeJson } from './_body'
import { type PrefixOption, normalizePrefix, stripPrefix } from './_prefix'

export { PresignError, isPresignError } from '../core/errors'
export type { PresignOptions } from '../core/options'

export interface KoaPresignOptions<Id extends Identity | true = Identity | true, Result = unknown>
  extends PresignOptions<Context, Id, Result>,
    PrefixOption {}

/**
 * Koa 2 and 3 middleware serving every upload route under `prefix`. Hooks receive the Koa
 * `Context` as `request`; unexpected errors are thrown to Koa.
 *
 * @example
 * app.use(presignMiddleware({ prefix: '/uploads', bucket: 'uploads', secret, authorize: ({ request }) => request.state.user ?? false }))
 */
export function presignMiddleware<Id extends Identity | true = Identity | true, Result = unknown>(options: KoaPresignOptions<Id, Result>) {
  const prefix = normalizePrefix(options?.prefix)
  const presigner = createPresigner(options)

  return async function presignMiddleware(ctx: Context, next: Next): Promise<void> {
    const path = stripPrefix(ctx.path, prefix)
    const response =
      path === undefined
        ? undefined
        : await presigner.handle({
            method: ctx.method,
            path,
            query: new URLSearchParams(ctx.querystring),
            readBody: () => readNodeJson(ctx.req, (ctx.request as { body?: unknown }).body),
            // koa-mount strips its path before us and records it as ctx.mountPath.
            mount: `${(ctx as { mountPath?: string }).mountPath ?? ''}${prefix}`,
            request: ctx,
          })
    if (!response) return next()
    ctx.status = response.status
    ctx.set(response.headers)
    if (response.body !== undefined) ctx.body = JSON.stringify(response.body)
  }
}
