// The fetch handler as a Cloudflare Worker (module syntax), on workerd with `nodejs_compat`: the
// core signs and seals with node:crypto. The store comes from the worker's bindings (see app.mjs):
// text bindings for S3_BUCKET, S3_ENDPOINT, ..., secrets for PRESIGN_SECRET and the S3 keys.
//
// Bundle it first (workerd runs one file; wrangler does the same bundling itself):
//   npm run build && node examples/runtimes/build-worker.mjs /tmp/worker     # writes worker.js + workerd.capnp
//   S3_BUCKET=... PRESIGN_SECRET=... workerd serve /tmp/worker/workerd.capnp --socket-addr http=127.0.0.1:3000
import { createApp } from './app.mjs'

let app
export default {
  /** Bindings exist only from the first request on: the handler is built then, once per isolate. */
  fetch(request, env) {
    app ??= createApp(env)
    return app(request)
  },
}
