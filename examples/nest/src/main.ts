// Direct-to-S3 uploads in a NestJS 11 app: a guard signs the caller in, then a controller hands
// every route under /uploads to the package's Express middleware (src/uploads.controller.ts).
//
//   npm run build && node examples/nest/build.mjs
//   S3_ENDPOINT=http://127.0.0.1:7480 S3_BUCKET=demo S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=... node examples/nest/dist/main.js
//
// The bucket must exist; for browsers, with CORS (npx s3-presign-middleware doctor --help).
import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import { NestFactory } from '@nestjs/core'
import type { NestExpressApplication } from '@nestjs/platform-express'
import { AppModule } from './app.module'

/** Boots the app; `port: 0` picks a free port. */
export async function start({ port = Number(process.env.PORT ?? 3000), host = '127.0.0.1' } = {}) {
  const app = await NestFactory.create<NestExpressApplication>(AppModule)
  // Nest parses JSON bodies before any controller, with express.json()'s 100 kB limit; a `complete`
  // of 10,000 parts is about 1 MiB. The upload routes still refuse a body that is not JSON.
  app.useBodyParser('json', { limit: '1mb' })
  await app.listen(port, host)
  const address = app.getHttpServer().address() as AddressInfo
  return { url: `http://${host}:${address.port}`, close: () => app.close() }
}

if (require.main === module) {
  start().then(
    ({ url, close }) => {
      console.log(`Nest example running at ${url}`)
      console.log(
        `Try: curl -X POST ${url}/uploads/create -H 'authorization: Bearer alice-token' -H 'content-type: application/json' -d '{"filename":"a.txt","contentType":"text/plain","size":5}'`,
      )
      const stop = () => close().then(() => process.exit(0))
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    },
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    },
  )
}
