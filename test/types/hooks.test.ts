import { readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Fixture, PACKAGE, assertFreshBuild, compileFixture, repoRoot } from './_fixture'

/**
 * The hook types users get from the built package (SPEC §2, §3 `authorize`), checked by the
 * compiler: each case below is a small module of a strict app (see `_fixture.ts`) written with
 * vitest's `expectTypeOf`, compiled for every adapter in one program. A case passes when its
 * module compiles with no error; `// @ts-expect-error` lines state what must NOT compile.
 *
 * In every case: `User` is an interface (`{ id: string; plan: string }`), `lookup(request)`
 * returns `User | undefined` from the framework's request, `Account` has a numeric id, and
 * `mount` is the adapter's factory.
 */

interface Adapter {
  module: string
  factory: string
  /** how the case names the framework's request type `Req` */
  request: string
  /** options every mount of this adapter needs besides bucket and secret */
  extra: string
}

const adapters: Record<string, Adapter> = {
  express: {
    module: 's3-presign-middleware/express',
    factory: 'presignMiddleware',
    request: "import type { Request as Req } from 'express'",
    extra: '',
  },
  koa: {
    module: 's3-presign-middleware/koa',
    factory: 'presignMiddleware',
    request: "import type { Context as Req } from 'koa'",
    extra: ", prefix: '/uploads'",
  },
  fetch: {
    module: 's3-presign-middleware/fetch',
    factory: 'createFetchHandler',
    request: 'type Req = Request',
    extra: ", prefix: '/uploads'",
  },
}

const cases: Record<string, string> = {
  "ctx.request is the framework's own request (Express Request, Koa Context, fetch Request) in authorize, keyFor and onComplete": `
mount({
  ...base,
  authorize: (ctx) => {
    expectTypeOf(ctx.request).toEqualTypeOf<Req>()
    return true
  },
  keyFor: (ctx) => {
    expectTypeOf(ctx.request).toEqualTypeOf<Req>()
    return 'key'
  },
  onComplete: (ctx) => {
    if (ctx.source === 'complete') expectTypeOf(ctx.request).toEqualTypeOf<Req>()
  },
})`,

  'an identity declared as an interface is accepted from authorize, sync or async': `
mount({ ...base, authorize: ({ request }): User | false => lookup(request) ?? false })
mount({ ...base, authorize: ({ request }) => lookup(request) ?? false })
mount({ ...base, authorize: async ({ request }) => lookup(request) ?? false })`,

  'a numeric id type-checks, and hooks see it as a number': `
mount({ ...base, authorize: () => ({ id: 42 }) })
mount({
  ...base,
  authorize: (): Account | false => account,
  keyFor: ({ identity }) => {
    expectTypeOf(identity.id).toEqualTypeOf<number>()
    return \`accounts/\${identity.id}/file\`
  },
})`,

  'authorize must return an identity with an id, true or false: anything else does not compile': `
// @ts-expect-error an identity needs an id
mount({ ...base, authorize: () => ({ name: 'someone' }) })
// @ts-expect-error a bare id is not an identity
mount({ ...base, authorize: () => 'user-1' })
// @ts-expect-error ids are strings or numbers
mount({ ...base, authorize: () => ({ id: { nested: 1 } }) })`,

  'ctx.identity is exactly User in keyFor and onComplete when authorize returns User | false (no true)': `
mount({
  ...base,
  authorize: ({ request }) => lookup(request) ?? false,
  keyFor: ({ identity }) => {
    expectTypeOf(identity).toEqualTypeOf<User>()
    return \`users/\${identity.id}/avatar\`
  },
  onComplete: (ctx) => {
    if (ctx.source === 'complete') expectTypeOf(ctx.identity).toEqualTypeOf<User>()
  },
})
mount({
  ...base,
  authorize: async ({ request }) => lookup(request) ?? false,
  keyFor: ({ identity }) => {
    expectTypeOf(identity).toEqualTypeOf<User>()
    return \`users/\${identity.id}/avatar\`
  },
})`,

  'ctx.identity is User | true in keyFor and onComplete when authorize can return true': `
mount({
  ...base,
  authorize: ({ request }) => lookup(request) ?? true,
  keyFor: ({ identity }) => {
    expectTypeOf(identity).toEqualTypeOf<User | true>()
    return identity === true ? 'anonymous/file' : \`users/\${identity.id}/file\`
  },
  onComplete: (ctx) => {
    if (ctx.source === 'complete') expectTypeOf(ctx.identity).toEqualTypeOf<User | true>()
  },
})`,

  'ctx.file.filename (the name the client gave) is a string in keyFor': `
mount({
  ...base,
  authorize: () => true,
  keyFor: ({ file }) => {
    expectTypeOf(file.filename).toEqualTypeOf<string>()
    return \`files/\${file.filename}\`
  },
})`,

  'ctx.file.filename is a string in onComplete, whichever way the upload finished (SPEC §2: every hook sees ctx.file)': `
mount({
  ...base,
  authorize: () => true,
  onComplete: (ctx) => {
    expectTypeOf(ctx.file.filename).toEqualTypeOf<string>()
  },
})`,

  "onComplete with source 'event' (S3 notifications) has request undefined": `
mount({
  ...base,
  authorize: () => true,
  onComplete: (ctx) => {
    if (ctx.source === 'event') expectTypeOf(ctx.request).toEqualTypeOf<undefined>()
  },
})`,

  "onComplete with source 'event' gets the uploader's id, typed as authorize's id, and true only when authorize can return true": `
mount({
  ...base,
  authorize: ({ request }) => lookup(request) ?? false,
  onComplete: (ctx) => {
    if (ctx.source === 'event') expectTypeOf(ctx.identity).toEqualTypeOf<{ id: string }>()
  },
})
mount({
  ...base,
  authorize: (): Account | false => account,
  onComplete: (ctx) => {
    if (ctx.source === 'event') expectTypeOf(ctx.identity).toEqualTypeOf<{ id: number }>()
  },
})
mount({
  ...base,
  authorize: ({ request }) => lookup(request) ?? true,
  onComplete: (ctx) => {
    if (ctx.source === 'event') expectTypeOf(ctx.identity).toEqualTypeOf<{ id: string } | true>()
  },
})`,
}

const caseNames = Object.keys(cases)

function header(adapter: Adapter): string {
  return [
    // vitest's own expectTypeOf, from its expect-type dependency: importing 'vitest' would load
    // ~650 more declaration files and double the compile time.
    "import { expectTypeOf } from 'expect-type'",
    `import { ${adapter.factory} as mount } from '${adapter.module}'`,
    adapter.request,
    'interface User { id: string; plan: string }',
    'interface Account { id: number; name: string }',
    'declare function lookup(request: Req): User | undefined',
    'declare const account: Account',
    `const base = { bucket: 'uploads', secret: 'a-secret-of-at-least-16-characters'${adapter.extra} }`,
  ].join('\n')
}

/** Every entry package.json exports with types, loaded by a Node app: their declarations get checked. */
function entriesModule(): string {
  const { name, exports } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    name: string
    exports: Record<string, unknown>
  }
  const entries = Object.keys(exports).filter((entry) => !entry.endsWith('.json'))
  return entries
    .map((entry, index) => `import type * as entry${index} from '${posix.join(name, entry)}'\nexport type { entry${index} }`)
    .join('\n')
}

function fileFor(adapter: string, index: number): string {
  return `hooks/${adapter}-case-${index + 1}.ts`
}

describe('hook types of the built package, for each adapter', () => {
  let fixture: Fixture
  const headerLines = header(adapters.express!).split('\n').length

  beforeAll(() => {
    assertFreshBuild()
    const files: Record<string, string> = {}
    for (const [name, adapter] of Object.entries(adapters)) {
      caseNames.forEach((caseName, index) => {
        files[fileFor(name, index)] = `${header(adapter)}${cases[caseName]}\n`
      })
    }
    files['entries.ts'] = entriesModule()
    fixture = compileFixture('hooks', files)
  }, 60_000)

  it('the fixture app (user types, contexts) compiles on its own', () => {
    const own = fixture.diagnostics.filter((d) => !d.file.startsWith('hooks/') && !d.file.startsWith(PACKAGE) && d.file !== 'entries.ts')
    expect(own.map((d) => `${d.file}:${d.line}:${d.column} TS${d.code}: ${d.message}`)).toEqual([])
  })

  it("every entry's built declarations load and compile under strict in a Node app without the DOM lib, library checks on", () => {
    const declarations = fixture.diagnostics.filter((d) => d.file.startsWith(PACKAGE) || d.file === 'entries.ts')
    expect(declarations.map((d) => `${d.file}:${d.line}:${d.column} TS${d.code}: ${d.message}`)).toEqual([])
  })

  for (const name of Object.keys(adapters)) {
    describe(name, () => {
      caseNames.forEach((caseName, index) => {
        it(caseName, () => {
          const code = (cases[caseName] ?? '').split('\n')
          const errors = fixture.diagnostics
            .filter((d) => d.file === fileFor(name, index))
            .map((d) => {
              // Lines of the case itself, counted from the case's first line (the header comes first).
              const caseLine = d.line - headerLines
              return `case line ${caseLine}:${d.column} TS${d.code}: ${d.message}\n    > ${(code[caseLine] ?? '(header)').trim()}`
            })
          expect(errors).toEqual([])
        })
      })
    })
  }
})
