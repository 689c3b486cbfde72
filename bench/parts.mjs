// The time to sign the 10,000 part URLs of a 52 GB upload (10,000 parts of 5 MiB) through
// sign-parts: in process (the core) and over HTTP through the Express adapter, in batches of
// 1,000 (the most one sign-parts call answers); in process too in the package client's batches
// (concurrency 4, so 8 parts a call); and, as the yardstick, 10,000 × the query signer alone on
// the same part requests. The figures alternate within each round; each is CPU time (_stats.mjs),
// the Express server's included (it runs in this process).
import express from 'express'
import { createPresigner } from 's3-presign-middleware'
import { presignMiddleware } from 's3-presign-middleware/express'
import { s3Config, startFakeS3 } from './_fake-s3.mjs'
import { CLIENT_BATCHES, IN_PROCESS, SIGNER_ALONE } from './_names.mjs'
import { loadQuerySigner } from './_query-signer.mjs'
import { cpuMicros, summarize, round } from './_stats.mjs'

const PARTS = 10_000
const PART_SIZE = 5 * 1024 ** 2

export async function benchParts({ rounds = 7 } = {}) {
  const fake = await startFakeS3()
  const s3 = s3Config(fake.endpoint)
  const options = { bucket: 'bench', s3, secret: 'bench-secret-0123456789', authorize: () => ({ id: 'b' }) }
  const presigner = createPresigner(options)
  const created = await presigner.create(
    { filename: 'huge.bin', contentType: 'application/octet-stream', size: PARTS * PART_SIZE },
    undefined,
  )
  if (created.partCount !== PARTS) throw new Error(`expected 10,000 parts, got ${created.partCount}`)
  const batchesOf = (size) => Array.from({ length: PARTS / size }, (_, b) => Array.from({ length: size }, (_, i) => b * size + i + 1))
  const batches = batchesOf(1000)
  const clientBatches = batchesOf(8)
  const signAll = async () =>
    (await Promise.all(batches.map((partNumbers) => presigner.signParts({ token: created.token, partNumbers }, undefined)))).flatMap(
      (r) => r.parts,
    )
  // One call after another, as the package's client asks just ahead of its uploads.
  const signInClientBatches = async () => {
    let signed = 0
    for (const partNumbers of clientBatches)
      signed += (await presigner.signParts({ token: created.token, partNumbers }, undefined)).parts.length
    return signed
  }

  // The signer alone on the same requests, one call per URL. sign-parts adds the token, authorize,
  // the checks and the answer, but signs one upload's parts around a template built once per batch
  // (presign.each), so it can cost less than this yardstick.
  const { createQuerySigner, encodeKey } = await loadQuerySigner()
  const querySigner = createQuerySigner()
  const host = new URL(fake.endpoint).host
  const path = `/bench/${encodeKey(created.key)}`
  const uploadId = JSON.parse(Buffer.from(created.token.split('.')[1], 'base64url').toString()).u
  const signAlone = () => {
    const date = new Date()
    const urls = new Array(PARTS)
    for (let n = 1; n <= PARTS; n++) {
      urls[n - 1] = querySigner(
        {
          method: 'PUT',
          protocol: 'http:',
          host,
          path,
          query: { partNumber: String(n), uploadId, 'x-id': 'UploadPart', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
          headers: { 'content-length': String(PART_SIZE) },
          region: 'us-east-1',
          expiresIn: 600,
          date,
        },
        s3.credentials,
      )
    }
    return urls
  }

  const app = express()
  app.use('/uploads', presignMiddleware(options))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const url = `http://127.0.0.1:${server.address().port}/uploads/sign-parts`
  const bodies = batches.map((partNumbers) => JSON.stringify({ token: created.token, partNumbers }))

  const inProcess = []
  const inClientBatches = []
  const alone = []
  const overHttp = []
  await signAll() // warm-up
  await signInClientBatches()
  signAlone()
  for (let r = 0; r < rounds; r++) {
    let t = cpuMicros()
    const parts = await signAll()
    inProcess.push((cpuMicros() - t) / 1000)
    if (parts.length !== PARTS) throw new Error('missing parts')
    t = cpuMicros()
    const inBatches = await signInClientBatches()
    inClientBatches.push((cpuMicros() - t) / 1000)
    if (inBatches !== PARTS) throw new Error('missing parts in the client’s batches')
    t = cpuMicros()
    const urls = signAlone()
    alone.push((cpuMicros() - t) / 1000)
    if (urls.length !== PARTS || urls[PARTS - 1] === undefined) throw new Error('missing URLs from the signer alone')
    t = cpuMicros()
    let signed = 0
    for (const body of bodies) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      const json = await res.json()
      if (!Array.isArray(json.parts)) throw new Error(`sign-parts over HTTP answered ${res.status}`)
      signed += json.parts.length
    }
    overHttp.push((cpuMicros() - t) / 1000)
    if (signed !== PARTS) throw new Error('missing parts over HTTP')
  }
  server.close()
  await fake.close()
  const ms = (v) => {
    const s = summarize(v)
    return { ...s, min: round(s.min), median: round(s.median), max: round(s.max) }
  }
  return {
    [IN_PROCESS]: ms(inProcess),
    [CLIENT_BATCHES]: ms(inClientBatches),
    [SIGNER_ALONE]: ms(alone),
    'sign-parts over HTTP, Express (ms)': ms(overHttp),
  }
}
