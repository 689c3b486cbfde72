// Run by a runtime (bun, deno) from the repository root: prints which HTTP handler the S3 client
// that the core builds gets there, as JSON on one line. Imports the TypeScript source, which both
// runtimes load as it is.
import { nodeHttpUsable } from '../../src/core/http-handler'
import { createClients } from '../../src/core/storage'

const { client } = createClients({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAWHICH', secretAccessKey: 'x' } }, undefined, 1234)
console.log(JSON.stringify({ nodeHttpUsable: nodeHttpUsable(), handler: client.config.requestHandler.constructor.name }))
