// `npm run bench`: every benchmark, a table, bench/results.json, bench/chart.svg, and the targets.
// Figures are min/median/max over rounds in which the contenders alternate. Quote ratios.
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { benchHttp } from './http.mjs'
import { benchMemory } from './memory.mjs'
import { benchParts } from './parts.mjs'
import { benchProxy } from './proxy.mjs'
import { benchSign } from './sign.mjs'
import { renderChart } from './chart.mjs'

const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',')
const want = (name) => !only || only.includes(name)
const results = { machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, date: new Date().toISOString() } }

if (want('sign')) {
  console.log('\n## µs per presigned URL')
  results.sign = await benchSign({ rounds: quick ? 3 : 7, perRound: quick ? 1000 : 3000 })
  console.table(results.sign)
}
if (want('parts')) {
  console.log('\n## 10,000 part URLs (a 52 GB upload)')
  results.parts = await benchParts({ rounds: quick ? 3 : 7 })
  console.table(results.parts)
}
if (want('http')) {
  console.log('\n## HTTP: req/s and latency (ms), 50 connections, autocannon in another process')
  results.http = await benchHttp({ rounds: quick ? 1 : 3, seconds: quick ? 2 : 4 })
  console.table(results.http.map((r) => ({ scenario: r.scenario, server: r.kind, 'req/s (median)': r.rps.median, 'req/s min–max': `${r.rps.min}–${r.rps.max}`, p50: r.p50.median, p99: r.p99.median, errors: r.errors })))
}
if (want('memory')) {
  console.log('\n## Memory across requests')
  results.memory = await benchMemory({ requests: quick ? 20_000 : 100_000 })
  console.log(results.memory)
}
if (want('proxy')) {
  console.log('\n## The app server per 100 MB upload: proxy vs presign')
  results.proxy = await benchProxy({ rounds: quick ? 1 : 3 })
  console.log(results.proxy)
}

results.targets = targets(results)
console.log('\n## Targets')
console.table(results.targets)
const file = new URL('./results.json', import.meta.url)
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
writeFileSync(new URL('./chart.svg', import.meta.url), renderChart(results))
console.log('\nwrote bench/results.json and bench/chart.svg')

function targets(r) {
  const rows = []
  const med = (group, name) => group?.[name]?.median
  const http = (scenario, kind) => r.http?.find((x) => x.scenario === scenario && x.kind === kind)?.rps.median
  const check = (target, value, ok) => rows.push({ target, measured: value ?? 'not measured', met: value === undefined ? '–' : ok ? 'yes' : 'NO' })
  if (r.sign) {
    const ours = med(r.sign, 'ours: the query signer alone')
    const floor = med(r.sign, 'crypto floor (SHA-256 + HMAC)')
    const sdk = med(r.sign, 'getSignedUrl, reused client')
    check('sign cost ≤ 3× the crypto floor', ours && `${(ours / floor).toFixed(1)}×`, ours / floor <= 3)
    check('sign cost ≥ 10× below getSignedUrl', ours && `${(sdk / ours).toFixed(1)}×`, sdk / ours >= 10)
  }
  if (r.http) {
    const ex = http('create', 'ours-express')
    const hand = http('create', 'handwritten-express')
    const fetchAdapter = http('create', 'ours-fetch')
    const floor = http('create', 'floor-node-http')
    check('Express POST /create ≥ 2.5× hand-written getSignedUrl endpoint', ex && hand && `${(ex / hand).toFixed(2)}×`, ex / hand >= 2.5)
    check('fetch adapter (node:http) ≥ 0.6× the bare floor', fetchAdapter && floor && `${(fetchAdapter / floor).toFixed(2)}×`, fetchAdapter / floor >= 0.6)
    const uppy = http('part', 'ours-express')
    const companion = http('part', 'companion')
    check('Uppy part signing ≥ 5× Companion', uppy && companion && `${(uppy / companion).toFixed(1)}×`, uppy / companion >= 5)
    const params = http('params', 'ours-express')
    const companionParams = http('params', 'companion')
    check('Uppy /s3/params vs Companion (no target)', params && companionParams && `${(params / companionParams).toFixed(1)}×`, true)
  }
  if (r.parts) {
    const ms = r.parts['sign-parts in process (ms)'].median
    check('10,000 part URLs < 100 ms (in process)', `${ms} ms`, ms < 100)
  }
  if (r.memory) {
    const h = r.memory['heap after GC at each checkpoint (MiB)']
    check(`memory flat over ${r.memory.requests} requests`, `${h[0]} → ${h[h.length - 1]} MiB, ${r.memory.errors} errors`, h[h.length - 1] - h[0] < 5 && r.memory.errors === 0)
  }
  return rows
}
