// The time to sign the 10,000 part URLs of a 52 GB upload (10,000 parts of 5 MiB) through
// sign-parts: in-process (the core) and over HTTP through the Express adapter, in batches of
// 1,000 (the most one sign-parts call answers).
import express from 'express'
import { createPresigner } from 's3-presign-middleware'
import { presignMiddleware } from 's3-presign-middleware/express'
import { s3Config, startFakeS3 } from './_fake-s3.mjs'
import { summarize, round } from './_stats.mjs'

export async function benchParts({ rounds = 7 } = {}) {
  const fake = await startFakeS3()
  const options = { bucket: 'bench', s3: s3Config(fake.endpoint), secret: 'bench-secret-0123456789', authorize: () => ({ id: 'b' }) }
  const presigner = createPresigner(options)
  const size = 10_000 * 5 * 1024 ** 2
  const created = await presigner.create({ filename: 'huge.bin', contentType: 'application/octet-stream', size }, undefined)
  if (created.partCount !== 10_000) throw new Error(`expected 10,000 parts, got ${created.partCount}`)
  const BATCH = 1000
  const batches = Array.from({ length: 10_000 / BATCH }, (_, b) => Array.from({ length: BATCH }, (_, i) => b * BATCH + i + 1))
  const signAll = async () =>
    (await Promise.all(batches.map((partNumbers) => presigner.signParts({ token: created.token, partNumbers }, undefined)))).flatMap(
      (r) => r.parts,
    )

  const app = express()
  app.use('/uploads', presignMiddleware(options))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const url = `http://127.0.0.1:${server.address().port}/uploads/sign-parts`
  const bodies = batches.map((partNumbers) => JSON.stringify({ token: created.token, partNumbers }))

  const inProcess = []
  const overHttp = []
  await signAll() // warm-up
  for (let r = 0; r < rounds; r++) {
    let t = performance.now()
    const parts = await signAll()
    inProcess.push(performance.now() - t)
    if (parts.length !== 10_000) throw new Error('missing parts')
    t = performance.now()
    let signed = 0
    for (const body of bodies) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      const json = await res.json()
      if (!Array.isArray(json.parts)) throw new Error(`sign-parts over HTTP answered ${res.status}`)
      signed += json.parts.length
    }
    overHttp.push(performance.now() - t)
    if (signed !== 10_000) throw new Error('missing parts over HTTP')
  }
  server.close()
  await fake.close()
  const ms = (v) => ({ ...summarize(v), min: round(summarize(v).min), median: round(summarize(v).median), max: round(summarize(v).max) })
  return { 'sign-parts in process (ms)': ms(inProcess), 'sign-parts over HTTP, Express (ms)': ms(overHttp) }
}
