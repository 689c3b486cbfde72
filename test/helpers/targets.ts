import { type RequestListener, createServer } from 'node:http'
import bodyParser from '@koa/bodyparser'
import { getRequestListener } from '@hono/node-server'
import express5 from 'express'
import express4 from 'express-4'
import Koa3 from 'koa'
import Koa2 from 'koa-2'
import { presignMiddleware as expressMiddleware } from '../../src/adapters/express'
import { createFetchHandler } from '../../src/adapters/fetch'
import { presignMiddleware as koaMiddleware } from '../../src/adapters/koa'
import type { PresignOptions } from '../../src/core/options'

/**
 * Every way the package is mounted: each adapter, each framework major, with and without a
 * body parser in front. The contract suite runs through all of them (h3's describeMatrix).
 */
export interface Target {
  name: string
  /** A Node request listener with the routes under `/uploads`, for supertest. */
  build(options: PresignOptions<any, any, any>): RequestListener
  /** Whether an unknown path under the mount falls through to the host app (not fetch). */
  passesThrough: boolean
  /** Whether a body parser runs before the middleware (its own errors then answer bad JSON). */
  parser: boolean
}

type AnyExpress = typeof express5

function expressTarget(name: string, express: AnyExpress, withParser: boolean): Target {
  return {
    name,
    passesThrough: true,
    parser: withParser,
    build(options) {
      const app = express()
      if (withParser) app.use(express.json())
      app.use('/uploads', expressMiddleware(options))
      app.use((_req, res) => {
        res.status(404).json({ code: 'host_not_found' })
      })
      // The host's error handler: unexpected errors must reach it.
      app.use((err: Error & { status?: number }, _req: unknown, res: express5.Response, _next: unknown) => {
        res.status(err.status ?? 500).json({ code: 'host_error', message: err.message })
      })
      return app as unknown as RequestListener
    },
  }
}

function koaTarget(name: string, Koa: typeof Koa3, withParser: boolean): Target {
  return {
    name,
    passesThrough: true,
    parser: withParser,
    build(options) {
      const app = new Koa()
      app.use(async (ctx, next) => {
        try {
          await next()
        } catch (err) {
          ctx.status = (err as { status?: number }).status ?? 500
          ctx.body = { code: 'host_error', message: (err as Error).message }
        }
      })
      if (withParser) app.use(bodyParser())
      app.use(koaMiddleware({ prefix: '/uploads', ...options }))
      app.use((ctx) => {
        ctx.status = 404
        ctx.body = { code: 'host_not_found' }
      })
      return app.callback() as RequestListener
    },
  }
}

const fetchTarget: Target = {
  name: 'fetch (node:http)',
  passesThrough: false,
  parser: false,
  build(options) {
    const handler = createFetchHandler({ prefix: '/uploads', ...options })
    return getRequestListener(async (request) => {
      try {
        return await handler(request)
      } catch (err) {
        return Response.json({ code: 'host_error', message: (err as Error).message }, { status: 500 })
      }
    }) as RequestListener
  },
}

export const targets: Target[] = [
  expressTarget('Express 5', express5, false),
  expressTarget('Express 5 + express.json()', express5, true),
  expressTarget('Express 4', express4 as unknown as AnyExpress, false),
  expressTarget('Express 4 + express.json()', express4 as unknown as AnyExpress, true),
  koaTarget('Koa 3', Koa3, false),
  koaTarget('Koa 3 + @koa/bodyparser', Koa3, true),
  koaTarget('Koa 2', Koa2 as unknown as typeof Koa3, false),
  koaTarget('Koa 2 + @koa/bodyparser', Koa2 as unknown as typeof Koa3, true),
  fetchTarget,
]

/** Starts a listener on 127.0.0.1 (for tests that need a real URL, e.g. fetch or a browser). */
export async function listen(listener: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
