// `npm run bench`: every benchmark, a table, bench/results.json, bench/chart.svg, and the targets.
// Figures are min/median/max over rounds in which the contenders alternate. Quote ratios.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { benchHttp } from './http.mjs'
import { benchMemory } from './memory.mjs'
import { benchParts } from './parts.mjs'
import { benchProxy } from './proxy.mjs'
import { benchSign } from './sign.mjs'
import { renderChart } from './chart.mjs'
import { renderMarkdown } from './markdown.mjs'
import { targets } from './targets.mjs'

const quick = process.argv.includes('--quick')
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',')
const want = (name) => !only || only.includes(name)
const file = new URL('./results.json', import.meta.url)
const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, date: new Date().toISOString() }
// `--only=sign,parts` re-measures those and keeps the rest of results.json: every target compares
// figures of one section, so each ratio still comes from one run.
const previous = only && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
const results = previous
  ? {
      ...previous,
      machine: {
        ...previous.machine,
        remeasured: { ...previous.machine.remeasured, ...Object.fromEntries(only.map((section) => [section, machine.date])) },
      },
    }
  : { machine }

if (want('sign')) {
  console.log('\n## µs per presigned URL')
  results.sign = await benchSign({ rounds: quick ? 3 : 7, perRound: quick ? 1000 : 3000 })
  console.table(results.sign)
}
if (want('parts')) {
  console.log('\n## 10,000 part URLs (a 52 GB upload)')
  results.parts = await benchParts({ rounds: quick ? 3 : 15 })
  console.table(results.parts)
}
if (want('http')) {
  console.log('\n## HTTP: req/s and latency (ms), 50 connections, autocannon in another process')
  results.http = await benchHttp({ rounds: quick ? 1 : 5, seconds: quick ? 2 : 3 })
  console.table(
    results.http.map((r) => ({
      scenario: r.scenario,
      server: r.kind,
      'req/s (median)': r.rps.median,
      'req/s min–max': `${r.rps.min}–${r.rps.max}`,
      p50: r.p50.median,
      p99: r.p99.median,
      errors: r.errors,
    })),
  )
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
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
writeFileSync(new URL('./chart.svg', import.meta.url), renderChart(results))
writeFileSync(new URL('./results.md', import.meta.url), renderMarkdown(results))
console.log('\nwrote bench/results.json, bench/results.md and bench/chart.svg')
