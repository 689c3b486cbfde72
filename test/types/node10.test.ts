import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertFreshBuild, repoRoot } from './_fixture'

/**
 * Apps compiled with `"module": "commonjs"` and `"moduleResolution": "node"` (node10: a Nest CLI
 * app, many older Node apps) ignore package.json `exports`. Every subpath the package exports must
 * still resolve there, through `typesVersions`, to the declarations `exports` gives `require`, and
 * those declarations must compile: `import { presignMiddleware } from 's3-presign-middleware/express'`
 * is otherwise TS2307.
 */

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { require?: { types?: string } }>
}
const subpaths = Object.entries(pkg.exports)
  .filter(([subpath]) => subpath !== './package.json')
  .map(([subpath, target]) => ({
    specifier: subpath === '.' ? 's3-presign-middleware' : `s3-presign-middleware/${subpath.slice(2)}`,
    types: typeof target === 'string' ? undefined : target.require?.types,
  }))

const options: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  target: ts.ScriptTarget.ES2022,
  // The client entry is browser code (File, XMLHttpRequest).
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  types: ['node'],
  strict: true,
  esModuleInterop: true,
  skipLibCheck: false,
  noEmit: true,
}

describe('node10 resolution ("moduleResolution": "node")', () => {
  let dir: string
  let app: string

  beforeAll(() => {
    assertFreshBuild()
    dir = realpathSync(mkdtempSync(join(tmpdir(), 's3pm-node10-')))
    app = join(dir, 'app')
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
    mkdirSync(join(app, 'node_modules'), { recursive: true })
    symlinkSync(repoRoot, join(app, 'node_modules', 's3-presign-middleware'), 'dir')
  })

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('package.json exports at least the core and the adapters', () => {
    expect(subpaths.map((s) => s.specifier)).toEqual(
      expect.arrayContaining(['s3-presign-middleware', 's3-presign-middleware/express', 's3-presign-middleware/koa']),
    )
  })

  it.each(subpaths)('$specifier resolves to the declarations exports gives require ($types)', ({ specifier, types }) => {
    expect(types, `exports of ${specifier} has no require.types`).toBeDefined()
    const resolved = ts.resolveModuleName(specifier, join(app, 'index.ts'), options, ts.sys).resolvedModule?.resolvedFileName
    expect(resolved).toBe(join(realpathSync(repoRoot), types!))
  })

  it("every entry's declarations compile there under strict, imported from a CommonJS app", () => {
    const source = subpaths.map(({ specifier }, i) => `import * as entry${i} from '${specifier}'\nvoid entry${i}`).join('\n')
    writeFileSync(join(app, 'index.ts'), `${source}\n`)
    const program = ts.createProgram({ rootNames: [join(app, 'index.ts')], options })
    const dist = `${realpathSync(repoRoot).split('\\').join('/')}/dist/`
    const checked = program.getSourceFiles().filter((file) => file.fileName.startsWith(dist) || file.fileName.startsWith(app))
    expect(checked.filter((file) => file.fileName.startsWith(dist)).length).toBeGreaterThanOrEqual(subpaths.length)
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...checked.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
    ]
    expect(
      diagnostics.map((d) => `${d.file?.fileName ?? ''}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`),
    ).toEqual([])
  })
})
