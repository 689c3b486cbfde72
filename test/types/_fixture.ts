import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/**
 * A throwaway TypeScript app that depends on this package the way users do: the package is
 * installed under `node_modules/s3-presign-middleware` (a link to this repo), so imports by name go
 * through package.json `exports` to the built `dist/*.d.ts`, never to `src/`. The app is an ES
 * module (`"type": "module"`) compiled like a typical strict Node server: `strict`, NodeNext
 * resolution, no DOM lib.
 *
 * The app declares its user type the usual ways (`contexts/*.ts`):
 * - Express with Passport: `declare global { namespace Express { interface User { id: string; plan: 'free' | 'pro' } } }`
 *   and the `req.user?: Express.User` that `@types/passport` adds;
 * - Koa: `declare module 'koa' { interface DefaultState { user?: AppUser } }`, read as `ctx.state.user`.
 *
 * Decorators compile as in a Nest app (`experimentalDecorators`), and `@nestjs/passport`'s
 * `AuthGuard` is declared (`contexts/nest-passport.d.ts`) for the NestJS block.
 *
 * Everything is compiled in one program, and the compiler is asked about two sets of files only:
 * the app's, and the package's own declarations (as without `skipLibCheck`, so a broken `.d.ts`
 * shows even though most apps skip library checks). Other libraries' declarations are not
 * checked (@types/koa has an error of its own). Set `KEEP_TYPE_FIXTURES=1` to keep the folder
 * and run `npx tsc -p <folder>/app` by hand (that also checks every library).
 */

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

export const compilerOptions = {
  strict: true,
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  lib: ['ES2023'],
  types: ['node'],
  skipLibCheck: false,
  noEmit: true,
  // NestJS blocks: Nest's decorators are the legacy ones (parameter decorators such as @Req()).
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
} as const

/**
 * What a Next.js app compiles with (the tsconfig `create-next-app` writes): bundler resolution,
 * where `next/server` and `next/headers` resolve (Next has no `exports` map), and the DOM lib.
 */
export const nextCompilerOptions = {
  ...compilerOptions,
  module: 'ESNext',
  moduleResolution: 'Bundler',
  lib: ['DOM', 'DOM.Iterable', 'ES2023'],
  jsx: 'preserve',
} as const

/** Where a diagnostic's file is reported from: the package's own declarations. */
export const PACKAGE = 's3-presign-middleware/'

/** The app's user type, declared the way Express/Passport and Koa apps declare it. */
const CONTEXT_FILES: Record<string, string> = {
  'contexts/user.ts': `
/** The app's user, as its session or auth layer loads it. */
export interface AppUser { id: string; plan: 'free' | 'pro' }
`,
  'contexts/passport.d.ts': `
// What an Express app with Passport declares: its user type, and what @types/passport adds to Request.
declare global {
  namespace Express {
    interface User { id: string; plan: 'free' | 'pro' }
    interface Request { user?: User | undefined }
  }
}
export {}
`,
  'contexts/koa-state.d.ts': `
// What a Koa app declares for the user its auth middleware puts in ctx.state.
import type { AppUser } from './user.js'
declare module 'koa' {
  interface DefaultState { user?: AppUser }
}
`,
  'contexts/nest-passport.d.ts': `
// The part of @nestjs/passport's declaration the README's NestJS block uses (the package is not a
// dependency here): AuthGuard('jwt') is a guard class that sets req.user.
declare module '@nestjs/passport' {
  import type { CanActivate, Type } from '@nestjs/common'
  export const AuthGuard: (type?: string | string[]) => Type<CanActivate>
}
`,
  'contexts/db.ts': `
import type { AppUser } from './user.js'
/** The app's own data layer, as README examples call it. */
export const db = {
  users: {
    /** The user of a session id (a cookie's value), as an app's auth layer finds it. */
    async bySession(session: string | undefined): Promise<AppUser | undefined> {
      return session ? { id: session, plan: 'free' } : undefined
    },
  },
  files: {
    async insert(row: { key: string; size: number; contentType: string; owner: unknown; filename?: string }): Promise<{ id: string }> {
      return { id: row.key }
    },
  },
}
`,
  'contexts/express.ts': `
import express from 'express'
export { presignMiddleware, PresignError } from 's3-presign-middleware/express'
export { db } from './db.js'
/** An Express 5 app. */
export const app = express()
`,
  'contexts/koa.ts': `
import Koa from 'koa'
export { presignMiddleware, PresignError } from 's3-presign-middleware/koa'
export { db } from './db.js'
/** A Koa 3 app. */
export const app = new Koa()
`,
  'contexts/fetch.ts': `
import { Hono } from 'hono'
export { createFetchHandler, PresignError } from 's3-presign-middleware/fetch'
export { db } from './db.js'
/** A Hono app (the fetch adapter's usual host). */
export const app = new Hono()
`,
  'contexts/next.ts': `
export { createFetchHandler, PresignError } from 's3-presign-middleware/fetch'
export { db } from './db.js'
`,
  'contexts/node.ts': `
export { db } from './db.js'
`,
}

/** The names each context offers a block that does not declare them itself. */
export const CONTEXT_NAMES: Record<string, string[]> = {
  express: ['app', 'db', 'presignMiddleware', 'PresignError'],
  koa: ['app', 'db', 'presignMiddleware', 'PresignError'],
  fetch: ['app', 'db', 'createFetchHandler', 'PresignError'],
  next: ['db', 'createFetchHandler', 'PresignError'],
  node: ['db'],
}

export interface Diagnostic {
  /** path relative to the app folder, or `s3-presign-middleware/dist/…` for the package's declarations */
  file: string
  /** 1-based */
  line: number
  column: number
  code: number
  message: string
}

export interface Fixture {
  /** the app's folder, removed once compiled unless `KEEP_TYPE_FIXTURES` is set */
  dir: string
  /** The compiler's diagnostics for the app's files and the package's declarations ('' for global ones). */
  diagnostics: Diagnostic[]
}

/**
 * The built declarations must be at least as new as every source file the build's entries
 * (`tsup.config.ts`) import, or the test would check old types. `npm test` builds first (`pretest`).
 */
export function assertFreshBuild(): void {
  const dist = join(repoRoot, 'dist')
  const declarations = existsSync(dist) ? readdirSync(dist).filter((name) => name.endsWith('.d.ts')) : []
  for (const name of ['index.d.ts', 'express.d.ts', 'koa.d.ts', 'fetch.d.ts']) {
    if (!declarations.includes(name)) throw new Error(`dist/${name} is missing: run \`npm run build\` (npm test does it first).`)
  }
  const oldestBuilt = Math.min(...declarations.map((name) => statSync(join(dist, name)).mtimeMs))
  const entries = [...readFileSync(join(repoRoot, 'tsup.config.ts'), 'utf8').matchAll(/'(src\/[^']+\.tsx?)'/g)].map((m) =>
    join(repoRoot, m[1] ?? ''),
  )
  const stale = sourcesOf(entries).filter((file) => statSync(file).mtimeMs > oldestBuilt)
  if (stale.length > 0) {
    const names = stale.map((file) => relative(repoRoot, file)).join(', ')
    throw new Error(`dist/ is older than ${names}: run \`npm run build\` so the types under test are current.`)
  }
}

/** The entries and every source file they import, transitively (relative imports only). */
function sourcesOf(entries: string[]): string[] {
  const seen = new Set<string>()
  const queue = [...entries]
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue
    seen.add(file)
    if (!existsSync(file)) continue
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue
      const base = join(dirname(file), fileName).replace(/\.js$/, '')
      const found = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate))
      if (found) queue.push(found)
    }
  }
  return [...seen]
}

/**
 * Writes the app (contexts plus `files`, paths relative to the app folder) and compiles it once,
 * as a Node server (`compilerOptions`) unless other options are given (`nextCompilerOptions`).
 */
export function compileFixture(prefix: string, files: Record<string, string>, options: object = compilerOptions): Fixture {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `s3pm-types-${prefix}-`)))
  try {
    return { dir, diagnostics: compileIn(dir, files, options) }
  } finally {
    if (process.env.KEEP_TYPE_FIXTURES) console.log(`type fixture kept: npx tsc -p ${join(dir, 'app')}`)
    else rmSync(dir, { recursive: true, force: true })
  }
}

function compileIn(dir: string, files: Record<string, string>, compilerOptions: object): Diagnostic[] {
  const app = join(dir, 'app')
  // The app's dependencies are this repo's (express, koa, hono, @types/*, expect-type); the package
  // itself is linked in as if installed, so its own package.json and `exports` are what resolve.
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
  mkdirSync(join(app, 'node_modules'), { recursive: true })
  symlinkSync(repoRoot, join(app, 'node_modules', 's3-presign-middleware'), 'dir')
  const all = { ...CONTEXT_FILES, ...files }
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(app, path)), { recursive: true })
    writeFileSync(join(app, path), text)
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fixture-app', private: true, type: 'module' }, null, 2))
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['**/*.ts'] }, null, 2))

  const parsed = ts.parseJsonConfigFileContent({ compilerOptions, include: ['**/*.ts'] }, ts.sys, app)
  const program = ts.createProgram({ rootNames: Object.keys(all).map((path) => join(app, path)), options: parsed.options })
  // The compiler names files with `/` and by their real path (the package link resolved).
  const appDir = `${toPosix(app)}/`
  const dist = `${toPosix(join(realpathSync(repoRoot), 'dist'))}/`
  const checked = program.getSourceFiles().filter((file) => file.fileName.startsWith(appDir) || file.fileName.startsWith(dist))
  const found = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...checked.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ]
  return found.map((d) => toDiagnostic(d, appDir, dist))
}

function toDiagnostic(d: ts.Diagnostic, app: string, dist: string): Diagnostic {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
  if (!d.file || d.start === undefined) return { file: '', line: 0, column: 0, code: d.code, message }
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
  const name = d.file.fileName
  const file = name.startsWith(dist) ? `${PACKAGE}dist/${name.slice(dist.length)}` : name.slice(app.length)
  return { file, line: line + 1, column: character + 1, code: d.code, message }
}

function toPosix(path: string): string {
  return path.split(sep).join('/')
}

/** Top-level names a block declares or imports (so a context does not supply them again). */
export function declaredNames(code: string): Set<string> {
  const names = new Set<string>()
  const source = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
  const addBinding = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) names.add(name.text)
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) addBinding(element.name)
  }
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause
      if (clause.name) names.add(clause.name.text)
      const bindings = clause.namedBindings
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text)
      if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) names.add(element.name.text)
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) addBinding(declaration.name)
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text)
    }
  }
  return names
}
