// Compiles the Nest example with its own tsconfig (CommonJS, node10 resolution) to examples/nest/dist:
//
//   npm run build && node examples/nest/build.mjs && node examples/nest/dist/main.js
//
// It first links the package into examples/nest/node_modules, as `npm install` of a
// `"s3-presign-middleware": "file:../.."` dependency would: node10 resolution and require() look
// for packages in node_modules only. test/frameworks/nest.test.ts compiles a copy the same way.
import { existsSync, mkdirSync, symlinkSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')

/**
 * Links the package into `<app>/node_modules` and compiles `<app>/tsconfig.json` (emitting to its outDir).
 * @param {string} [app] the example's folder (a copy of it in the tests)
 * @returns {{ errors: string[], options: import('typescript').CompilerOptions }} tsc's diagnostics, formatted
 */
export function compileExample(app = here) {
  const link = join(app, 'node_modules', 's3-presign-middleware')
  if (!existsSync(link)) {
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(relative(dirname(link), root), link, 'dir')
  }
  const config = ts.getParsedCommandLineOfConfigFile(
    join(app, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} },
  )
  if (!config) throw new Error(`${join(app, 'tsconfig.json')} could not be read`)
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options })
  const emitted = program.emit()
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => app, getNewLine: () => '\n' }
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]
  return { errors: diagnostics.map((d) => ts.formatDiagnostic(d, host).trim()), options: config.options }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { errors, options } = compileExample()
  if (errors.length > 0) {
    console.error(errors.join('\n'))
    process.exit(1)
  }
  console.log(`compiled examples/nest/src to ${relative(process.cwd(), options.outDir ?? '')}`)
}
