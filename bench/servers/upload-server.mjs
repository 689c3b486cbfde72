// The app server of the proxy comparison, in its own process so its CPU and memory are its own:
// `multer-s3` (bytes through the app into S3) or our middleware (bytes go straight to S3).
// GET /__usage answers this process's CPU time and peak RSS.
import express from 'express'
import { S3Client } from '@aws-sdk/client-s3'

const [kind, endpoint, bucket] = process.argv.slice(2)
const s3 = {
  endpoint,
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: {
    accessKeyId: process.env.S3_TEST_ACCESS_KEY ?? 'AKIATESTTESTTEST0001',
    secretAccessKey: process.env.S3_TEST_SECRET_KEY ?? 'testsecrettestsecrettestsecret0001',
  },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
}
// Peak RSS by sampling: getrusage's ru_maxrss survives fork/exec on Linux and would report the
// bench parent's high-water mark instead of ours.
let peakRss = process.memoryUsage().rss
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 5).unref()
const app = express()
app.get('/__usage', (_req, res) => {
  const cpu = process.cpuUsage()
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  res.json({ cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMiB: peakRss / 2 ** 20 })
})
if (kind === 'multer-s3') {
  const { default: multer } = await import('multer')
  const { default: multerS3 } = await import('multer-s3')
  const upload = multer({
    storage: multerS3({ s3: new S3Client(s3), bucket, key: (_req, file, cb) => cb(null, `proxy/${Date.now()}-${file.originalname}`) }),
  })
  app.post('/upload', upload.single('file'), (req, res) => res.json({ key: req.file.key, size: req.file.size }))
} else {
  const { presignMiddleware } = await import('s3-presign-middleware/express')
  app.use(
    '/uploads',
    presignMiddleware({ bucket, s3, secret: 'bench-secret-0123456789', authorize: () => true, multipart: { threshold: 5 * 1024 ** 3 } }),
  )
}
const server = app.listen(0, '127.0.0.1', () => console.log(`READY ${server.address().port}`))
