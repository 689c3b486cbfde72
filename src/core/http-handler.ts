import type { S3ClientConfig } from '@aws-sdk/client-s3'
import { FetchHttpHandler } from '@smithy/fetch-http-handler'

/**
 * The HTTP handler of the S3 clients the package builds itself, with the `timeout` on every request.
 *
 * - Where Node's `http`/`https` carry requests (Node, Bun, Deno): options, from which the SDK builds
 *   its own default handler, `NodeHttpHandler` in its Node build, with the timeout on connecting and
 *   on every request (thrown, not only logged). Options rather than an instance, so that nothing
 *   here imports `node:https`: a bundler for a worker runtime (esbuild, wrangler, webpack) follows
 *   static imports, and such a runtime has no `node:https`, or one built on `fetch`. A bundle made
 *   with the `browser` condition gets the SDK's browser build, which turns the same options into a
 *   `FetchHttpHandler`.
 * - On workerd (Cloudflare Workers) and wherever `process.versions.node` is missing: the SDK's
 *   `FetchHttpHandler`, whichever build of the SDK was bundled. workerd's `node:http` is built on
 *   its `fetch`, without sockets whose connecting a `connectionTimeout` could time; the request
 *   timeout covers connecting, and `storage.ts` aborts each call with `AbortSignal.timeout` besides.
 */
export function defaultRequestHandler(timeout: number): NonNullable<S3ClientConfig['requestHandler']> {
  if (nodeHttpUsable()) return { connectionTimeout: timeout, requestTimeout: timeout, throwOnRequestTimeout: true }
  return new FetchHttpHandler({ requestTimeout: timeout })
}

/** What `nodeHttpUsable` reads of `globalThis`. */
export interface RuntimeGlobals {
  navigator?: { userAgent?: unknown }
  process?: { versions?: { node?: unknown } }
}

/**
 * Whether this runtime is one whose `node:http` the SDK's Node handler can use: Node, Bun and
 * Deno set `process.versions.node`; workerd sets it too under `nodejs_compat` (its Node version)
 * but names itself in `navigator.userAgent`.
 */
export function nodeHttpUsable(g: RuntimeGlobals = globalThis as RuntimeGlobals): boolean {
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return false
  return typeof g.process?.versions?.node === 'string'
}
