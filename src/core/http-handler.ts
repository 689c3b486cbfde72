import { NodeHttpHandler } from '@smithy/node-http-handler'

/**
 * The HTTP handler of the S3 clients the package builds itself: Node's, with the `timeout` on
 * connecting and on every request.
 */
export function defaultRequestHandler(timeout: number) {
  return new NodeHttpHandler({ connectionTimeout: timeout, requestTimeout: timeout, throwOnRequestTimeout: true })
}
