import { createPresigner } from 's3-presign-middleware'
import { createFloor } from './_create-floor.mjs'
import { s3Config, startFakeS3 } from './_fake-s3.mjs'
import { ab } from '/tmp/ab.mjs'
const fake = await startFakeS3()
const p = createPresigner({
  bucket: 'bench',
  s3: s3Config(fake.endpoint),
  region: 'us-east-1',
  secret: 'bench-secret-0123456789',
  authorize: () => true,
  multipart: { threshold: 5 * 1024 ** 2 },
})
const floor = createFloor()
await ab(
  { create: () => p.create({ filename: 'photo.png', contentType: 'image/png', size: 1234 }, undefined), floor: (i) => floor.run(i) },
  { slices: 40, n: 500 },
)
await fake.close()
