// Where the package's browser client lives on disk, so the example apps can serve it as
// /client.js (a real app would bundle `s3-presign-middleware/client` with its own code).
import { fileURLToPath } from 'node:url'

export const CLIENT_JS = fileURLToPath(import.meta.resolve('s3-presign-middleware/client'))
