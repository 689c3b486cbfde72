// Copies bench/results.md into README.md's "Benchmarks" section, in place of the previous run's
// tables: `node bench/readme.mjs` (after `npm run bench`, or `node bench/render.mjs`), or
// `node bench/readme.mjs --check` to fail when README.md is not the tables of bench/results.md.
// The tables are the lines from "Measured on ..." on that are tables, blank, or results.md's own
// sentences ("Heap after GC ..."); the prose after them is the README's and is kept.
// `--readme=<path>` works on another copy (the default is the repository's README.md).
import { readFileSync, writeFileSync } from 'node:fs'

const readmeArg = process.argv.find((a) => a.startsWith('--readme='))?.slice(9)
const readmePath = readmeArg ?? new URL('../README.md', import.meta.url).pathname
const results = readFileSync(new URL('./results.md', import.meta.url), 'utf8')
  .trimEnd()
  .split('\n')
const readme = readFileSync(readmePath, 'utf8').split('\n')

const section = readme.indexOf('## Benchmarks')
const start = readme.findIndex((line, i) => i > section && line.startsWith('Measured on '))
if (section < 0 || start < 0) {
  console.error('README.md has no "## Benchmarks" section with a "Measured on ..." line: paste bench/results.md by hand.')
  process.exit(1)
}
const ours = (line) => line === '' || line.startsWith('|') || line.startsWith('Measured on ') || line.startsWith('Heap after GC ')
let end = start
while (end < readme.length && ours(readme[end])) end++
// Keep one blank line before the prose that follows.
const next = [...readme.slice(0, start), ...results, '', ...readme.slice(end)]

if (process.argv.includes('--check')) {
  const same = next.join('\n') === readme.join('\n')
  console.log(same ? 'README.md shows bench/results.md.' : 'README.md does not show bench/results.md: run `node bench/readme.mjs`.')
  process.exit(same ? 0 : 1)
}
writeFileSync(readmePath, next.join('\n'))
console.log(`README.md: lines ${start + 1}–${end} replaced by bench/results.md (${results.length} lines).`)
