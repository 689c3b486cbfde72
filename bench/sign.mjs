// µs per presigned URL: ours (the package's public path) vs getSignedUrl with a reused client,
// vs a client built per call (as tutorials do), vs the SDK's SignatureV4 directly, vs the raw
// crypto floor (one SHA-256 + one HMAC), and `create` vs its own floor (_create-floor.mjs). Rows
// with a function-valued rule (issue 13) sit beside the static ones. Contenders alternate within
// each round; each is timed in CPU µs (_stats.mjs: cpuMicros).
import { createHmac } from 'node:crypto'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'
import { createPresigner } from 's3-presign-middleware'
import { createFloor, sha256Hex } from './_create-floor.mjs'
import { CREATE, CREATE_ASYNC_RULE, CREATE_FLOOR, CREATE_SYNC_RULE, PARTS, PARTS_ASYNC_RULE, PARTS_SYNC_RULE } from './_names.mjs'
import { loadQuerySigner } from './_query-signer.mjs'
import { cpuMicros, summarize, round } from './_stats.mjs'
import { s3Config, startFakeS3 } from './_fake-s3.mjs'
import { postPolicyContenders } from './_post-policy.mjs'

const CANONICAL_TAIL =
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=AKIABENCHBENCHBENCH0%2F20261128%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261128T202800Z&X-Amz-Expires=600&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bif-none-match&x-id=PutObject\n' +
  'content-length:1234\ncontent-type:image/png\nhost:127.0.0.1:7480\nif-none-match:*\n\ncontent-length;content-type;host;if-none-match\nUNSIGNED-PAYLOAD'

const createRun = (presigner) => async (n) => {
  for (let i = 0; i < n; i++) await presigner.create({ filename: 'photo.png', contentType: 'image/png', size: 1234 }, undefined)
}
const partsRun = (presigner, token) => {
  const batch = Array.from({ length: 100 }, (_, i) => i + 1) // of the 205 parts of 1 GiB
  return async (n) => {
    for (let i = 0; i < n; i += 100) await presigner.signParts({ token, partNumbers: batch }, undefined)
  }
}

const SLICES = 10

export async function benchSign({ rounds = 7, perRound = 2000 } = {}) {
  const { createQuerySigner, encodeKey } = await loadQuerySigner()
  const querySigner = createQuerySigner()
  const signDate = new Date()
  const fake = await startFakeS3()
  const config = s3Config(fake.endpoint)
  const options = {
    bucket: 'bench',
    s3: config,
    region: 'us-east-1',
    secret: 'bench-secret-0123456789',
    authorize: () => true,
    multipart: { threshold: 5 * 1024 ** 2 },
  }
  // The same rules, `maxFileSize` given as a function (sync, then async) of the request's identity.
  const GiB5 = 5 * 1024 ** 3
  const presigner = createPresigner(options)
  const syncRule = createPresigner({ ...options, maxFileSize: ({ identity }) => (identity === true ? GiB5 : GiB5 * 2) })
  const asyncRule = createPresigner({ ...options, maxFileSize: async ({ identity }) => (identity === true ? GiB5 : GiB5 * 2) })
  const multipartOf = async (p) =>
    (await p.create({ filename: 'big.bin', contentType: 'application/octet-stream', size: 1024 ** 3 }, undefined)).token
  const [multipart, syncMultipart, asyncMultipart] = await Promise.all([presigner, syncRule, asyncRule].map(multipartOf))
  const floor = createFloor()
  const client = new S3Client(config)
  const postPolicy = await postPolicyContenders(config)
  const sigv4 = new SignatureV4({
    credentials: config.credentials,
    region: 'us-east-1',
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
  })
  const key = createHmac('sha256', 'k').update('x').digest()

  const putOptions = { expiresIn: 600, signableHeaders: new Set(['content-type', 'content-length', 'if-none-match']) }
  const command = () =>
    new PutObjectCommand({
      Bucket: 'bench',
      Key: `a/${Math.random()}.png`,
      ContentType: 'image/png',
      ContentLength: 1234,
      IfNoneMatch: '*',
    })

  const contenders = {
    'ours: the query signer alone': async (n) => {
      for (let i = 0; i < n; i++) {
        querySigner(
          {
            method: 'PUT',
            protocol: 'http:',
            host: '127.0.0.1:7480',
            path: `/bench/${encodeKey(`a/${i}.png`)}`,
            query: { 'x-id': 'PutObject', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
            headers: { 'content-type': 'image/png', 'content-length': '1234', 'if-none-match': '*' },
            region: 'us-east-1',
            expiresIn: 600,
            date: signDate,
          },
          config.credentials,
        )
      }
    },
    // A batch of part URLs through sign-parts: token check, authorize, signing, per URL. The rows
    // with a function-valued rule run right after the static one they are compared with.
    [PARTS]: partsRun(presigner, multipart),
    [PARTS_SYNC_RULE]: partsRun(syncRule, syncMultipart),
    [PARTS_ASYNC_RULE]: partsRun(asyncRule, asyncMultipart),
    // A whole create: validation, key, token, one signed PUT URL; right after it, what create cannot
    // do without (one signature, one token HMAC, one AES-GCM tag, one random id), then the rows
    // with a function-valued rule: each pair a target compares runs back to back.
    [CREATE]: createRun(presigner),
    [CREATE_FLOOR]: async (n) => {
      for (let i = 0; i < n; i++) floor.run(i)
    },
    [CREATE_SYNC_RULE]: createRun(syncRule),
    [CREATE_ASYNC_RULE]: createRun(asyncRule),
    'getSignedUrl, reused client': async (n) => {
      for (let i = 0; i < n; i++) await getSignedUrl(client, command(), putOptions)
    },
    'getSignedUrl, client per call': async (n) => {
      for (let i = 0; i < n / 4; i++) await getSignedUrl(new S3Client(config), command(), putOptions)
      return 4 // ran a quarter: it is slow
    },
    'SignatureV4.presign directly': async (n) => {
      for (let i = 0; i < n; i++) {
        await sigv4.presign(
          {
            method: 'PUT',
            protocol: 'http:',
            hostname: '127.0.0.1',
            port: 7480,
            path: `/bench/a/${i}.png`,
            query: {},
            headers: { host: '127.0.0.1:7480', 'content-type': 'image/png', 'content-length': '1234', 'if-none-match': '*' },
          },
          { expiresIn: 600 },
        )
      }
    },
    // The two operations a URL cannot do without, on a canonical request of the real size.
    'crypto floor (SHA-256 + HMAC)': async (n) => {
      for (let i = 0; i < n; i++) {
        const hash = sha256Hex(`PUT\n/bench/a/${i}.png\n${CANONICAL_TAIL}`)
        createHmac('sha256', key).update(`AWS4-HMAC-SHA256\n20261128T000000Z\n20261128/us-east-1/s3/aws4_request\n${hash}`).digest('hex')
      }
    },
    // POST policies vs one part URL, through the same signer: the ratio is a target (targets.mjs).
    ...postPolicy.contenders,
  }

  const samples = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]))
  // µs per call in each slice, in order: a target pairs two contenders slice by slice (targets.mjs).
  const perSlice = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]))
  for (const run of Object.values(contenders)) await run(200) // warm-up
  // Each round is cut into slices in which every contender runs in turn: a burst of other work on
  // the machine then falls on all of them alike, not on one contender's whole round.
  const slice = perRound / SLICES
  for (let r = 0; r < rounds; r++) {
    const us = Object.fromEntries(Object.keys(contenders).map((name) => [name, 0]))
    for (let s = 0; s < SLICES; s++) {
      for (const [name, run] of Object.entries(contenders)) {
        const start = cpuMicros()
        const scale = (await run(slice)) ?? 1
        const spent = (cpuMicros() - start) * scale
        us[name] += spent
        perSlice[name].push(round(spent / slice, 3))
      }
    }
    for (const [name, total] of Object.entries(us)) samples[name].push(total / perRound)
  }
  client.destroy()
  postPolicy.close()
  await fake.close()
  return Object.fromEntries(Object.entries(samples).map(([name, us]) => [name, { ...mapRound(summarize(us)), perSlice: perSlice[name] }]))
}

function mapRound(s) {
  return { ...s, min: round(s.min), median: round(s.median), max: round(s.max) }
}
