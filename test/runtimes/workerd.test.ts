import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { runtimeSuite } from './_runtime'

// examples/runtimes/worker.mjs on workerd (Cloudflare Workers' runtime, nodejs_compat), bundled
// by examples/runtimes/build-worker.mjs as wrangler would, on RGW. WORKERD_PATH: the workerd binary.

interface BuiltWorker {
  worker: string
  config: string
  metafile: { outputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }> }
}
const { buildWorker } = (await import(new URL('../../examples/runtimes/build-worker.mjs', import.meta.url).href)) as {
  buildWorker(outdir: string): Promise<BuiltWorker>
}

let dir = ''
let built: BuiltWorker
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

runtimeSuite(
  'workerd',
  'WORKERD_PATH',
  async (workerd) => {
    dir = await mkdtemp(join(tmpdir(), 'workerd-example-'))
    built = await buildWorker(dir)
    return (port) => ({ command: workerd, args: ['serve', built.config, '--socket-addr', `http=127.0.0.1:${port}`] })
  },
  () => {
    it('runs a bundle that leaves only node:crypto to workerd: no node:http(s), no Node handler, no DOMParser', async () => {
      const externals = Object.values(built.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path))
      expect([...new Set(externals)]).toEqual(['node:crypto'])
      const code = await readFile(built.worker, 'utf8')
      expect(code).toMatch(/\bFetchHttpHandler\b/)
      expect(code).not.toMatch(/\bNodeHttpHandler\b/)
      expect(code).not.toMatch(/new DOMParser\b/)
    })
  },
)
