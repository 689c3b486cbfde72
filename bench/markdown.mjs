// results.json → the Markdown tables the README shows (bench/render.mjs re-renders them without measuring).
import { SIGNER_ALONE } from './_names.mjs'

const range = (s, unit = '') => `${s.median}${unit} (${s.min}–${s.max})`

export function renderMarkdown(r) {
  // Sections re-measured with `--only`, grouped by run.
  const byRun = new Map()
  for (const [section, date] of Object.entries(r.machine.remeasured ?? {})) byRun.set(date, [...(byRun.get(date) ?? []), section])
  const remeasured = [...byRun]
    .map(([date, sections]) => `${sections.join(', ')} re-measured ${date.slice(0, 16).replace('T', ' ')} UTC`)
    .join('; ')
  const out = [
    `Measured on ${r.machine.cpus} cores (${r.machine.cpu}), Node ${r.machine.node}, ${r.machine.date.slice(0, 10)}${remeasured ? ` (${remeasured})` : ''}. ` +
      'Median (min–max) over alternating rounds; in-process figures (µs, ms) are CPU time.',
    '',
  ]
  if (r.sign) {
    const floor = r.sign['crypto floor (SHA-256 + HMAC)'].median
    out.push('| presigning one URL | µs | × crypto floor |', '|---|---|---|')
    for (const [name, s] of Object.entries(r.sign)) out.push(`| ${name} | ${range(s)} | ${(s.median / floor).toFixed(1)} |`)
    out.push('')
  }
  if (r.parts) {
    const alone = r.parts[SIGNER_ALONE]?.median
    out.push('| 10,000 part URLs (52 GB upload) | ms | × the signer alone |', '|---|---|---|')
    for (const [name, s] of Object.entries(r.parts))
      out.push(`| ${name.replace(' (ms)', '')} | ${range(s)} | ${alone ? (s.median / alone).toFixed(2) : '–'} |`)
    out.push('')
  }
  if (r.http) {
    out.push('| route | server | req/s | p50 ms | p99 ms | errors |', '|---|---|---|---|---|---|')
    const label = { create: 'POST /create', part: 'Uppy part signing', params: 'Uppy /s3/params' }
    for (const row of [...r.http].sort((a, b) => a.scenario.localeCompare(b.scenario) || b.rps.median - a.rps.median)) {
      out.push(`| ${label[row.scenario]} | ${row.kind} | ${range(row.rps)} | ${row.p50.median} | ${row.p99.median} | ${row.errors} |`)
    }
    out.push('')
  }
  if (r.proxy && !r.proxy.skipped) {
    out.push('| app server per 100 MB upload | CPU seconds | peak RSS MiB |', '|---|---|---|')
    for (const [name, v] of Object.entries(r.proxy))
      out.push(`| ${name} | ${range(v['app CPU seconds per 100 MB'])} | ${range(v['app peak RSS (MiB)'])} |`)
    out.push('')
  }
  if (r.memory)
    out.push(
      `Heap after GC over ${r.memory.requests.toLocaleString('en')} \`create\` requests: ${r.memory['heap after GC at each checkpoint (MiB)'].join(' → ')} MiB, ${r.memory.errors} errors.`,
      '',
    )
  if (r.targets) {
    out.push('| target | measured | met |', '|---|---|---|')
    for (const t of r.targets) out.push(`| ${t.target} | ${t.measured} | ${t.met} |`)
    out.push('')
  }
  return out.join('\n')
}
