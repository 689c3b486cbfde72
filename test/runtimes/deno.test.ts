import { itPicksHandler, runtimeSuite } from './_runtime'

// examples/runtimes/deno.mjs under Deno (Deno.serve), on RGW, with the permissions its header
// names and no others. DENO_PATH: the deno binary.
const PERMISSIONS = ['--allow-net', '--allow-env', '--allow-sys=osRelease']

runtimeSuite(
  'deno',
  'DENO_PATH',
  async (deno) => (_port) => ({ command: deno, args: ['run', ...PERMISSIONS, 'examples/runtimes/deno.mjs'] }),
  (binary) => itPicksHandler(binary, ['run', ...PERMISSIONS], 'NodeHttpHandler', true),
)
