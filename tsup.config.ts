import { type Options, defineConfig } from 'tsup'

// Both builds write into dist/ in parallel, so neither cleans it: `npm run build` empties it first.
const shared: Options = { format: ['esm', 'cjs'], dts: true, clean: false, target: 'node20', sourcemap: false }

export default defineConfig([
  {
    ...shared,
    entry: {
      index: 'src/index.ts',
      express: 'src/adapters/express.ts',
      koa: 'src/adapters/koa.ts',
      fetch: 'src/adapters/fetch.ts',
      fastify: 'src/adapters/fastify.ts',
      cli: 'src/cli/bin.ts',
    },
    splitting: true,
  },
  // The browser client is one self-contained file: pages serve dist/client.js on its own.
  { ...shared, entry: { client: 'src/client/index.ts' }, splitting: false },
  // The React hook carries its own copy of the client (no chunk shared with dist/client.js) and leaves React to the app.
  { ...shared, entry: { react: 'src/react/index.ts' }, splitting: false, external: ['react'] },
])
