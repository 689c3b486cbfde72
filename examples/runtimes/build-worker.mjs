// Bundles worker.mjs for workerd into one ES module, the way wrangler does with `nodejs_compat`:
// the `workerd`, `worker` and `browser` conditions (so @aws-sdk/client-s3 comes in its browser
// build: fetch, Web Crypto, no node:https), and Node's built-in modules left to the runtime.
// One step more than wrangler: the SDK's browser build parses S3's XML answers with DOMParser,
// which workerd does not have (aws/aws-sdk-js-v3#7375: CreateMultipartUpload, ListParts and
// CompleteMultipartUpload fail with "DOMParser is not defined"), so its XML parser is taken from
// the SDK's other build, plain JavaScript.
//
//   node examples/runtimes/build-worker.mjs <outdir>    # writes <outdir>/worker.js and <outdir>/workerd.capnp
import { copyFile, mkdir } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = fileURLToPath(new URL('.', import.meta.url))

/** @param {string} outdir */
export async function buildWorker(outdir) {
  await mkdir(outdir, { recursive: true })
  const builtins = builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.replace(/^node:/, ''))
  const result = await build({
    entryPoints: [join(here, 'worker.mjs')],
    outfile: join(outdir, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    minify: false,
    logLevel: 'warning',
    metafile: true,
    plugins: [
      {
        // `crypto` and `node:crypto` alike become `node:crypto`, which nodejs_compat provides.
        name: 'node-builtins',
        setup(b) {
          const filter = new RegExp(`^(node:)?(${builtins.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`)
          b.onResolve({ filter }, (args) => ({ path: `node:${args.path.replace(/^node:/, '')}`, external: true }))
        },
      },
      {
        // @aws-sdk/xml-builder's package.json maps ./dist-es/xml-parser to xml-parser.browser (DOMParser)
        // for bundles with the browser field; a path returned here skips that mapping.
        name: 'sdk-xml-parser-without-dom',
        setup(b) {
          b.onResolve({ filter: /^\.\/xml-parser$/ }, (args) =>
            /[\\/]@aws-sdk[\\/]xml-builder[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), 'xml-parser.js') } : undefined,
          )
        },
      },
    ],
  })
  await copyFile(join(here, 'workerd.capnp'), join(outdir, 'workerd.capnp'))
  return { worker: join(outdir, 'worker.js'), config: join(outdir, 'workerd.capnp'), metafile: result.metafile }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = resolve(process.argv[2] ?? 'worker-build')
  const { worker, config, metafile } = await buildWorker(outdir)
  const external = new Set(metafile.outputs[Object.keys(metafile.outputs)[0]].imports.filter((i) => i.external).map((i) => i.path))
  console.log(`${worker}\n${config}\nNode modules left to workerd: ${[...external].join(', ') || 'none'}`)
}
