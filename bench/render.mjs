// Re-renders results.md and chart.svg (and the targets) from results.json without re-measuring.
import { readFileSync, writeFileSync } from 'node:fs'
import { renderChart } from './chart.mjs'
import { renderMarkdown } from './markdown.mjs'
import { targets } from './targets.mjs'

const file = new URL('./results.json', import.meta.url)
const results = JSON.parse(readFileSync(file, 'utf8'))
results.targets = targets(results)
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
writeFileSync(new URL('./chart.svg', import.meta.url), renderChart(results))
writeFileSync(new URL('./results.md', import.meta.url), renderMarkdown(results))
console.table(results.targets)
