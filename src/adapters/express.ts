import type { NextFunction, Request, Response } from 'express'
import { createPresigner } from '../core/presigner'
import type { Identity, PresignOptions } from '../core/options'
import { readNodeJson } from './_body'

export { PresignError, isPresignError } from '../core/errors'
export type { PresignOptions } from '../core/options'

/**
 * Express 4 and 5 middleware serving every upload route under its mount path.
 * Unexpected errors (a failing hook, a bug) go to `next(err)`.
 *
 * @example
 * app.use('/uploads', presignMiddleware({ bucket: 'uploads', secret: process.env.PRESIGN_SECRET, authorize: (ctx) => ctx.request.user ?? false }))
 */
export function presignMiddleware<Id extends Identity = Identity, Result = unknown>(
  options: PresignOptions<Request, Id, Result>,
) {
  const presigner = createPresigner(options)

  return function presignMiddleware(req: Request, res: Response, next: NextFunction): void {
    // req.url is relative to the mount path; parse it ourselves so Express 4 (qs) and 5
    // (simple) query parsers give the same result.
    const url = new URL(req.url, 'http://localhost')
    presigner
      .handle({
        method: req.method,
        path: url.pathname,
        query: url.searchParams,
        readBody: () => readNodeJson(req, (req as { body?: unknown }).body),
        request: req,
      })
      .then((response) => {
        if (!response) return next()
        res.statusCode = response.status
        for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value)
        res.end(response.body === undefined ? undefined : JSON.stringify(response.body))
      })
      .catch(next)
  }
}
