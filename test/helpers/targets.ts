import { type RequestListener, createServer } from 'node:http'
import bodyParser from '@koa/bodyparser'
import { getRequestListener } from '@hono/node-server'
import express5 from 'express'
import express4 from 'express-4'
import Fastify5, { type FastifyInstance } from 'fastify'
import Fastify4 from 'fastify-4'
import Koa3 from 'koa'
import Koa2 from 'koa-2'
import { presignMiddleware as expressMiddleware } from '../../src/adapters/express'
import { presignPlugin } from '../../src/adapters/fastify'
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

/**
 * An Express app as the tests' hosts are: `before` (parsers, a login) first, the middleware at
 * `/uploads`, then the host's own 404 (`host_not_found`) and error handler (`host_error`):
 * unexpected errors must reach it.
 */
export function expressHost(
  express: AnyExpress,
  options: PresignOptions<any, any, any>,
  before: (app: ReturnType<AnyExpress>) => unknown = () => {},
): RequestListener {
  const app = express()
  before(app)
  app.use('/uploads', expressMiddleware(options))
  app.use((_req, res) => {
    res.status(404).json({ code: 'host_not_found' })
  })
  app.use((err: Error & { status?: number }, _req: unknown, res: express5.Response, _next: unknown) => {
    res.status(err.status ?? 500).json({ code: 'host_error', message: err.message })
  })
  return app as unknown as RequestListener
}

function expressTarget(name: string, express: AnyExpress, withParser: boolean): Target {
  return {
    name,
    passesThrough: true,
    parser: withParser,
    build: (options) => expressHost(express, options, (app) => withParser && app.use(express.json())),
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

type AnyFastify = typeof Fastify5

/**
 * Content-type parsers an app may have: `@fastify/formbody`-style (through a `fastify-plugin`,
 * so they reach every route), a `text/plain` parser replacing Fastify's default one, and a
 * catch-all for everything else. Inside the plugin our own reading decides (SPEC §5.10).
 */
function withOtherParsers(app: FastifyInstance): void {
  const formbody = Object.assign(
    async (instance: FastifyInstance) => {
      instance.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body: string, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body)))
      })
    },
    { [Symbol.for('skip-override')]: true },
  )
  app.register(formbody)
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body))
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
  // Another plugin with its own routes and a JSON body, next to ours.
  app.register(async (other) => {
    other.post('/other/echo', async (request) => request.body)
  })
}

function fastifyTarget(name: string, fastify: AnyFastify, withParsers: boolean): Target {
  return {
    name,
    passesThrough: true,
    // Inside the plugin nothing parses before us, whatever the app registered.
    parser: false,
    build(options) {
      const app = fastify()
      if (withParsers) withOtherParsers(app)
      // The host's error and 404 handlers: unexpected errors and unknown paths must reach them.
      app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
        reply.code(err.statusCode ?? 500).send({ code: 'host_error', message: err.message })
      })
      app.setNotFoundHandler((_request, reply) => {
        reply.code(404).send({ code: 'host_not_found' })
      })
      app.register(presignPlugin, { prefix: '/uploads', ...options })
      // Fastify routes once ready; `build` is synchronous, so requests wait for it.
      const ready = app.ready().then(
        () => undefined,
        (err: Error) => err,
      )
      return (req, res) => {
        ready.then((err) => {
          if (!err) return void app.server.emit('request', req, res)
          res.statusCode = 500
          res.end(JSON.stringify({ code: 'host_error', message: err.message }))
        })
      }
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
  fastifyTarget('Fastify 5', Fastify5, false),
  fastifyTarget('Fastify 5 + other plugins and content-type parsers', Fastify5, true),
  fastifyTarget('Fastify 4', Fastify4 as unknown as AnyFastify, false),
  fastifyTarget('Fastify 4 + other plugins and content-type parsers', Fastify4 as unknown as AnyFastify, true),
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
