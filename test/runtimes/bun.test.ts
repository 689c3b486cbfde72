import { itPicksHandler, runtimeSuite } from './_runtime'

// examples/runtimes/bun.mjs under Bun (Bun.serve), on RGW. BUN_PATH: the bun binary.
runtimeSuite(
  'bun',
  'BUN_PATH',
  async (bun) => (_port) => ({ command: bun, args: ['examples/runtimes/bun.mjs'] }),
  (binary) => itPicksHandler(binary, [], 'NodeHttpHandler', true),
)
