import type { NextFunction, Request, Response } from 'express'
import { createPresigner } from '../core/presigner'
import type { Identity, PresignOptions } from '../core/options'
import { readNodeJson } from './_body'
import { splitUrl } from './_prefix'

export { PresignError, isPresignError } from '../core/errors'
export type { PresignOptions } from '../core/options'

/**
 * Express 4 and 5 middleware serving every upload route under its mount path.
 * Unexpected errors (a failing hook, a bug) go to `next(err)`.
 *
 * @example
 * app.use('/uploads', presignMiddleware({ bucket: 'uploads', secret: process.env.PRESIGN_SECRET, authorize: (ctx) => ctx.request.user ?? false }))
 */
export function presignMiddleware<Id extends Identity | true = Identity | true, Result = unknown>(
  options: PresignOptions<Request, Id, Result>,
) {
  const presigner = createPresigner(options)

  return function presignMiddleware(req: Request, res: Response, next: NextFunction): void {
    // The path below the mount, exactly as the client sent it (SPEC §5.11): no `..`, `//` or `\\`
    // folding. Not req.url: Express 4 strips `/uploads/` from `/uploads//create` and hands us
    // `/create`, which a host guard on `/uploads/create` never saw. Query parsed the same under
    // Express 4 (qs) and 5 (simple).
    const { path, query } = splitUrl(belowMount(req))
    presigner
      .handle({
        method: req.method,
        path,
        query,
        readBody: () => readNodeJson(req, (req as { body?: unknown }).body),
        mount: req.baseUrl ?? '',
        request: req,
      })
      .then((response) => {
        if (!response) return next()
        res.statusCode = response.status
        for (const name in response.headers) res.setHeader(name, response.headers[name]!)
        res.end(response.body === undefined ? undefined : JSON.stringify(response.body))
      })
      .catch(next)
  }
}

/** `req.originalUrl` without the mount path (`req.baseUrl`), or `req.url` where that cannot be told. */
function belowMount(req: Request): string {
  const original = req.originalUrl ?? req.url
  const base = req.baseUrl ?? ''
  if (!original.startsWith(base)) return req.url
  const rest = original.slice(base.length)
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest
}
