import { beforeAll, describe, expect, it } from 'vitest'
import { type Diagnostic, assertFreshBuild, compileFixture, nextCompilerOptions } from './_fixture'

/**
 * The fetch adapter's types in the hosts it is mounted in, compiled against the built package
 * (see `_fixture.ts`): Hono, whose `Context` the hooks get when the handler is a Hono handler, and
 * Next.js 16, whose build checks a route file's exports against its route handler signature. A
 * case passes when its module compiles with no error; `// @ts-expect-error` lines state what must
 * NOT compile.
 */

const HONO_HEADER = `
import { expectTypeOf } from 'expect-type'
import { type Context, Hono } from 'hono'
import type { AuthorizeContext } from 's3-presign-middleware'
import { createFetchHandler } from 's3-presign-middleware/fetch'
interface User { id: string; plan: 'free' | 'pro' }
type Env = { Variables: { user: User | undefined } }
const app = new Hono<Env>()
const base = { prefix: '/uploads', bucket: 'uploads', secret: 'a-secret-of-at-least-16-characters' }
`

const honoCases: Record<string, string> = {
  "with authorize's request annotated as Context<Env>, every hook gets that Context, c.get('user') is typed, and the handler is a Hono handler": `
const uploads = createFetchHandler({
  ...base,
  authorize: ({ request: c }: { request: Context<Env> }) => c.get('user') ?? false,
  keyFor: ({ request, identity }) => {
    expectTypeOf(request).toEqualTypeOf<Context<Env>>()
    expectTypeOf(identity).toEqualTypeOf<User>()
    return \`users/\${identity.id}/file\`
  },
  maxFileSize: ({ request, identity }) => {
    expectTypeOf(request.get('user')).toEqualTypeOf<User | undefined>()
    return identity.plan === 'pro' ? 2e9 : 1e6
  },
  onComplete: (ctx) => {
    if (ctx.source === 'complete') {
      expectTypeOf(ctx.request).toEqualTypeOf<Context<Env>>()
      expectTypeOf(ctx.identity).toEqualTypeOf<User>()
    }
    return { owner: ctx.identity.id }
  },
})
app.all('/uploads/*', uploads)
app.all('/uploads/*', (c) => uploads(c))
expectTypeOf(uploads).parameter(0).toEqualTypeOf<Context<Env>>()`,

  'AuthorizeContext<Context<Env>> annotates the whole argument of authorize (action, key, the Context)': `
createFetchHandler({
  ...base,
  authorize: ({ request: c, action, key }: AuthorizeContext<Context<Env>>) => {
    const user = c.get('user')
    if (!user) return false
    return action === 'upload' || key?.startsWith(\`users/\${user.id}/\`) ? user : false
  },
  keyFor: ({ identity }) => {
    expectTypeOf(identity).toEqualTypeOf<User>()
    return \`users/\${identity.id}/file\`
  },
})`,

  'unannotated, hooks get the fetch Request and the handler takes c.req.raw, not the Context': `
const plain = createFetchHandler({
  ...base,
  authorize: ({ request }) => {
    expectTypeOf(request).toEqualTypeOf<Request>()
    return true
  },
})
// @ts-expect-error its hooks expect a Request: give it c.req.raw, or annotate authorize's request as Context
app.all('/uploads/*', plain)
app.all('/uploads/*', (c) => plain(c.req.raw))`,

  'a request type that neither is a Request nor carries one as req.raw does not compile': `
// @ts-expect-error not what the handler can be called with
createFetchHandler({ ...base, authorize: (_: { request: { headers: Headers } }) => true })`,
}

const NEXT_HEADER = `
import type { NextRequest } from 'next/server'
import { createFetchHandler } from 's3-presign-middleware/fetch'
// What next build checks a route file's exports against (.next/types/validator.ts of Next 16),
// for app/api/uploads/[...path]/route.ts.
type RouteHandler = (request: NextRequest, context: { params: Promise<{ path: string[] }> }) => Promise<Response | void> | Response | void
type RouteHandlerConfig = {
  GET?: RouteHandler
  POST?: RouteHandler
  PUT?: RouteHandler
  PATCH?: RouteHandler
  DELETE?: RouteHandler
  HEAD?: RouteHandler
  OPTIONS?: RouteHandler
}
type IsExpected<Specific extends RouteHandlerConfig> = Specific
const base = { prefix: '/api/uploads', bucket: 'uploads', secret: 'a-secret-of-at-least-16-characters' }
`

const nextCases: Record<string, string> = {
  'the handler destructured as GET, POST and DELETE passes the route handler check': `
const uploads = createFetchHandler({ ...base, authorize: ({ request }) => (request.headers.get('cookie') ? { id: 'u' } : false) })
export const { GET, POST, DELETE } = uploads
const route = { GET, POST, DELETE }
export type Checked = IsExpected<typeof route>`,

  'exported under each method name (`export { uploads as GET, ... }`), it passes too': `
const uploads = createFetchHandler({ ...base, authorize: () => true })
const route = { GET: uploads, POST: uploads, DELETE: uploads }
export type Checked = IsExpected<typeof route>`,

  'a handler whose hooks expect a Hono Context is not a Next.js route handler': `
const hono = createFetchHandler({ ...base, authorize: (_: { request: { req: { raw: Request } } }) => true })
// @ts-expect-error Next calls it with a NextRequest
export const GET: RouteHandler = hono.GET`,
}

function fileFor(kind: string, index: number): string {
  return `frameworks/${kind}-case-${index + 1}.ts`
}

const kinds = {
  hono: { header: HONO_HEADER, cases: honoCases, options: undefined },
  next: { header: NEXT_HEADER, cases: nextCases, options: nextCompilerOptions },
}

describe('the fetch adapter in Hono and Next.js, typed against the built package', () => {
  const diagnostics: Record<string, Diagnostic[]> = {}

  beforeAll(() => {
    assertFreshBuild()
    for (const [kind, { header, cases, options }] of Object.entries(kinds)) {
      const files = Object.fromEntries(Object.values(cases).map((code, index) => [fileFor(kind, index), `${header}${code}\n`]))
      diagnostics[kind] = compileFixture(`frameworks-${kind}`, files, options).diagnostics
    }
  }, 60_000)

  for (const [kind, { header, cases }] of Object.entries(kinds)) {
    describe(kind, () => {
      it('the fixture app (contexts, headers) compiles on its own', () => {
        const own = (diagnostics[kind] ?? []).filter((d) => !d.file.startsWith('frameworks/'))
        expect(own.map((d) => `${d.file}:${d.line}:${d.column} TS${d.code}: ${d.message}`)).toEqual([])
      })

      Object.entries(cases).forEach(([name, code], index) => {
        it(name, () => {
          const headerLines = header.split('\n').length - 1
          const lines = code.split('\n')
          const errors = (diagnostics[kind] ?? [])
            .filter((d) => d.file === fileFor(kind, index))
            .map((d) => {
              const caseLine = d.line - 1 - headerLines
              return `case line ${caseLine}:${d.column} TS${d.code}: ${d.message}\n    > ${(lines[caseLine] ?? '(header)').trim()}`
            })
          expect(errors).toEqual([])
        })
      })
    })
  }
})
