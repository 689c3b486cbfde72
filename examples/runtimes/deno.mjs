// The fetch handler on Deno (Deno.serve), against the store the S3_* variables name (see app.mjs).
//
//   npm run build && S3_BUCKET=... PRESIGN_SECRET=... deno run --allow-net --allow-env --allow-sys=osRelease examples/runtimes/deno.mjs
//
// Deno resolves `s3-presign-middleware` through package.json and node_modules (npm installs them).
// Permissions: --allow-net to serve and reach S3; --allow-env for the variables (the AWS SDK reads
// AWS_* ones too); --allow-sys=osRelease, which the SDK reads for its User-Agent (without it every
// S3 call fails with NotCapable). No file access: credentials come from the variables.
// PORT (default 3000; 0 picks a free one), HOST (127.0.0.1). Prints `listening on <url>`.
import { createApp } from './app.mjs'

const env = Deno.env.toObject()
Deno.serve(
  {
    port: Number(env.PORT ?? 3000),
    hostname: env.HOST ?? '127.0.0.1',
    onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
  },
  createApp(env),
)
