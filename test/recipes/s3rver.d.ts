// s3rver ships no types. In your project, `npm install -D @types/s3rver` gives the full set;
// this declares the part that app-tests.test.ts uses.
declare module 's3rver' {
  import type { Server } from 'node:http'
  import type { AddressInfo } from 'node:net'

  interface S3rverOptions {
    address?: string
    /** 0: any free port. */
    port?: number
    /** Where the objects go on disk. */
    directory: string
    silent?: boolean
    /** Buckets to create at start, each with optional CORS / website XML documents. */
    configureBuckets?: { name: string; configs?: string[] }[]
    /** Empty the store when closed. */
    resetOnClose?: boolean
  }

  export default class S3rver {
    constructor(options: S3rverOptions)
    run(): Promise<AddressInfo>
    close(): Promise<void>
    httpServer: Server
  }
}
