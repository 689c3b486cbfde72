// The fetch handler on Bun (Bun.serve), against the store the S3_* variables name (see app.mjs).
//
//   npm run build && S3_BUCKET=... PRESIGN_SECRET=... bun examples/runtimes/bun.mjs
//
// PORT (default 3000; 0 picks a free one), HOST (127.0.0.1). Prints `listening on <url>`.
import { createApp } from './app.mjs'

const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: process.env.HOST ?? '127.0.0.1',
  fetch: createApp(process.env),
})
console.log(`listening on ${server.url.origin}`)
