// Where `create` spends its time (issue 14): each step of src/core/start.ts's `create`, run alone on
// the inputs a real `create` gives it, next to the whole call and the floor (bench/_create-floor.mjs).
// Steps alternate within each round; figures are medians in CPU µs per upload. Not part of `npm run bench`.
//
//   node bench/profile-create.mjs                 the per-step table
//   node bench/profile-create.mjs --cpu-prof      plus the top functions by self time over 100,000 creates
//
// The core's modules are internal: bundled from src/ into bench/.build/ (the SDK left external).
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { bundleCore } from './_bundle.mjs'
import { createFloor } from './_create-floor.mjs'
import { s3Config, startFakeS3 } from './_fake-s3.mjs'
import { cpuMicros, round, summarize } from './_stats.mjs'

const loadCore = () =>
  bundleCore('core', [
    "export { createPresigner } from './presigner'",
    "export { resolveConfig, secretsOf } from './config'",
    "export { createTokenSealer, createObjectTagger, FILENAME_METADATA, OBJECT_TAG_METADATA } from './token'",
    "export { sanitizeFilename, assertValidKey, defaultKey } from './keys'",
    "export { asObject, asString, asContentType, asSize, asMetadata, asChecksum } from './input'",
    "export { authorize, identityIdOf } from './auth'",
    "export { createSigner } from './signing/signer'",
    "export { putObject, signedHeaders } from './signing/operations'",
    "export { expiresAt } from './start'",
    "export { createQuerySigner, encodeKey } from './signing/sigv4-query'",
    "export { createClients } from './storage'",
    "export { create } from './start'",
  ])

const ROUNDS = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 9)
const PER_ROUND = Number(process.argv.find((a) => a.startsWith('--n='))?.slice(4) ?? 5000)

const core$ = await loadCore()
const fake = await startFakeS3()
const options = {
  bucket: 'bench',
  s3: s3Config(fake.endpoint),
  region: 'us-east-1',
  secret: 'bench-secret-0123456789',
  authorize: process.argv.includes('--anonymous') ? () => true : () => ({ id: 'bench' }),
  multipart: { threshold: 5 * 1024 ** 2 },
}
const body = { filename: 'photo.png', contentType: 'image/png', size: 1234 }

// The public path, and a core assembled as presigner.ts does (its bucket registry aside).
const presigner = core$.createPresigner(options)
const config = core$.resolveConfig(options)
const secrets = core$.secretsOf(options)
const clients = core$.createClients(config.s3, config.region, config.timeout)
const signingClient = new S3Client(clients.signingConfig)
const signer = core$.createSigner('bench', signingClient)
const services = { storage: undefined, signer, uploadSigner: signer }
const core = { config, at: () => services, tokens: core$.createTokenSealer(secrets), tags: core$.createObjectTagger(secrets) }
const querySigner = core$.createQuerySigner()
const credentials = await signingClient.config.credentials()
const where = { protocol: 'http:', host: new URL(fake.endpoint).host, prefix: '/bench/' }

// One real create, to run every step below on its own values.
const sample = await core$.create(core, body, undefined)
const file = { filename: body.filename, contentType: body.contentType, size: body.size, metadata: {} }
const rules = config.staticRules
const key = sample.key
const tag = core.tags.seal({ scope: config.scope, bucket: 'bench', key }, { identityId: 'bench', maxFileSize: rules.maxFileSize })
const upload = {
  key,
  size: 1234,
  contentType: 'image/png',
  identityId: 'bench',
  tag,
  expiresAt: Math.floor(Date.now() / 1000) + config.tokenExpiresIn,
  scope: config.scope,
  bucket: 'bench',
  maxFileSize: rules.maxFileSize,
  overwrite: false,
  expiresIn: 600,
}
const metadata = { [core$.FILENAME_METADATA]: encodeURIComponent(file.filename), [core$.OBJECT_TAG_METADATA]: tag }
const put = { key, contentType: 'image/png', size: 1234, ifNoneMatch: true, metadata }
const operation = core$.putObject(put)
const floor = createFloor()

// Each step as start.ts runs it (private helpers of start.ts copied where noted).
const steps = {
  'presigner.create (public path)': () => presigner.create(body, undefined),
  'create(core) (without the bucket registry)': () => core$.create(core, body, undefined),
  'validate the body (asObject, asString, asContentType, asSize, asMetadata, asChecksum)': () => {
    const input = core$.asObject(body)
    core$.asString(input.filename, 'filename')
    core$.asContentType(input.contentType)
    core$.asSize(input.size)
    core$.asMetadata(input.metadata)
    core$.asChecksum(input.checksum)
  },
  'authorize (a sync hook: answered at once)': () => core$.authorize(core, 'upload', undefined, { file }),
  'rules, size and type checks': () => {
    const r = config.staticRules
    if (file.size > r.maxFileSize) throw new Error('over')
    if (!r.typeAllowed(file.contentType)) throw new Error('type')
  },
  'key: randomUUID': () => randomUUID(),
  'key: sanitizeFilename': () => core$.sanitizeFilename(file.filename),
  assertValidKey: () => core$.assertValidKey(key),
  'object tag (tags.seal: AES-256-GCM, the binding as associated data)': () =>
    core.tags.seal({ scope: config.scope, bucket: 'bench', key }, { identityId: 'bench', maxFileSize: rules.maxFileSize }),
  // begin's token object and start.ts's metadataOf + refuseOversizedMetadata (copied).
  'token object, metadata and its 2 KB check': () => {
    const u = { ...upload, expiresAt: Math.floor(Date.now() / 1000) + config.tokenExpiresIn, ...(file.size === undefined ? {} : {}) }
    const m = { ...file.metadata, [core$.FILENAME_METADATA]: encodeURIComponent(file.filename), [core$.OBJECT_TAG_METADATA]: u.tag }
    let bytes = 0
    for (const [name, value] of Object.entries(m)) bytes += name.length + value.length
    const again = { ...file.metadata, [core$.FILENAME_METADATA]: encodeURIComponent(file.filename), [core$.OBJECT_TAG_METADATA]: u.tag }
    return bytes + Object.keys(again).length
  },
  'putObject operation + signedHeaders': () => core$.signedHeaders(core$.putObject(put)),
  'credentials() (the SDK provider, awaited)': () => signingClient.config.credentials(),
  'signer.putObject (operation + query signer, in place when ready)': () => signer.putObject(put, 600),
  "query signer alone (create's 6 signed headers)": () =>
    querySigner(
      {
        method: 'PUT',
        protocol: where.protocol,
        host: where.host,
        path: where.prefix + core$.encodeKey(key),
        query: { 'x-id': 'PutObject', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
        headers: core$.signedHeaders(operation),
        region: 'us-east-1',
        expiresIn: 600,
        date: new Date(),
      },
      credentials,
    ),
  'tokens.seal (claims JSON, base64url, HMAC)': () => core.tokens.seal(upload),
  'expiresAt (the URL expiry as ISO 8601, formatted once a second)': () => core$.expiresAt(600),
  'floor: all four': (i) => floor.run(i),
  ...Object.fromEntries(Object.entries(floor.steps).map(([name, run]) => [`floor: ${name}`, run])),
}

async function time(run, n) {
  const first = run(0)
  const isAsync = typeof first?.then === 'function'
  await first
  const start = cpuMicros()
  if (isAsync) for (let i = 0; i < n; i++) await run(i)
  else for (let i = 0; i < n; i++) run(i)
  return (cpuMicros() - start) / n
}

for (const run of Object.values(steps)) await time(run, 2000) // warm-up
const samples = Object.fromEntries(Object.keys(steps).map((name) => [name, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(steps)) samples[name].push(await time(run, PER_ROUND))
}
const median = (name) => summarize(samples[name]).median
const whole = median('create(core) (without the bucket registry)')
const floorUs = median('floor: all four')
const rows = Object.keys(steps).map((name) => {
  const s = summarize(samples[name])
  return {
    step: name,
    'µs (median)': round(s.median),
    'min–max': `${round(s.min)}–${round(s.max)}`,
    '% of create(core)': `${Math.round((s.median / whole) * 100)}%`,
  }
})
console.log(`create: ${ROUNDS} rounds × ${PER_ROUND} per step, Node ${process.version}; token ${sample.token.length} characters`)
console.table(rows)
const inCreate = Object.keys(steps).filter(
  (n) =>
    !n.startsWith('floor') &&
    !n.startsWith('presigner') &&
    !n.startsWith('create(core)') &&
    !n.startsWith('query signer') &&
    !n.startsWith('credentials'),
)
const sum = inCreate.reduce((t, n) => t + median(n), 0)
console.log(
  `sum of create's steps: ${round(sum)} µs of ${round(whole)} µs (the rest: awaits, spreads, the JSON response); ` +
    `create(core) / floor = ${(whole / floorUs).toFixed(2)}×; presigner.create / floor = ${(median('presigner.create (public path)') / floorUs).toFixed(2)}×`,
)

if (process.argv.includes('--cpu-prof')) {
  const CALLS = 100_000
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 50 })
  await session.post('Profiler.start')
  for (let i = 0; i < CALLS; i++) await presigner.create(body, undefined)
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  // Bundle lines are not src lines: name each function by its name, or its first line of code.
  const bundle = readFileSync(new URL('./.build/core.mjs', import.meta.url), 'utf8').split('\n')
  const nameOf = ({ functionName, url, lineNumber }) => {
    if (!url.includes('.build/core.mjs')) return `${functionName || '(anonymous)'} ${url.replace(/^.*\/node_modules\//, '')}`.trim()
    // Two functions may share a name (the token's and the tag's `seal`): their first line tells them apart.
    return `(core) ${bundle[lineNumber]?.trim().slice(0, 60)}`
  }
  const dt = new Map()
  for (const [i, id] of profile.samples.entries()) dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  const self = new Map()
  let total = 0
  for (const node of profile.nodes) {
    if (node.callFrame.functionName === '(idle)') continue
    const us = dt.get(node.id) ?? 0
    total += us
    const name = nameOf(node.callFrame)
    self.set(name, (self.get(name) ?? 0) + us)
  }
  // Inclusive time: a core function's samples and its callees', over each synchronous stretch
  // (an await ends one: what runs after it counts again under the function it resumes).
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const totalOf = (node) => (node.children ?? []).reduce((t, id) => t + totalOf(byId.get(id)), dt.get(node.id) ?? 0)
  const inclusive = new Map()
  const walk = (node, open) => {
    const name = nameOf(node.callFrame)
    const mine = node.callFrame.url.includes('.build/core.mjs') && !open.has(name)
    if (mine) inclusive.set(name, (inclusive.get(name) ?? 0) + totalOf(node))
    for (const id of node.children ?? []) walk(byId.get(id), mine ? new Set([...open, name]) : open)
  }
  walk(profile.nodes[0], new Set())
  const table = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([fn, us]) => ({ function: fn, 'µs per create': round(us / CALLS), share: `${((us / total) * 100).toFixed(1)}%` }))
  console.log(`\nself time over ${CALLS.toLocaleString('en')} presigner.create calls, sampled (${round(total / CALLS)} µs per create):`)
  console.table(table(self))
  console.log('\ninclusive time of the core functions (what they call included):')
  console.table(table(inclusive))
}

signingClient.destroy()
await fake.close()
