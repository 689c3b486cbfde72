// Internal modules of src/core for the benches: bundled from source into bench/.build/<name>.mjs,
// the SDK left external (one copy, in node_modules), then imported.
import { pathToFileURL } from 'node:url'

/** `exports` are lines such as `export { create } from './start'`, relative to src/core/. */
export async function bundleCore(name, exports) {
  const { build } = await import('esbuild')
  const outfile = new URL(`./.build/${name}.mjs`, import.meta.url).pathname
  await build({
    stdin: { contents: exports.join('\n'), resolveDir: new URL('../src/core/', import.meta.url).pathname, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    outfile,
    logLevel: 'error',
  })
  return import(pathToFileURL(outfile).href)
}
