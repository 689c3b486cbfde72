// A dependency-free SVG bar chart of results.json: µs per URL (log scale) and req/s per server.
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')

function bars(title, rows, unit, x0, y0, width, log) {
  const max = Math.max(...rows.map((r) => r.value))
  const scale = (v) => (log ? (Math.log10(v + 1) / Math.log10(max + 1)) * width : (v / max) * width)
  let svg = `<text x="${x0}" y="${y0}" font-weight="bold">${esc(title)}</text>`
  rows.forEach((r, i) => {
    const y = y0 + 14 + i * 22
    svg += `<text x="${x0}" y="${y + 13}" font-size="12">${esc(r.label)}</text>`
    svg += `<rect x="${x0 + 230}" y="${y}" width="${Math.max(1, scale(r.value)).toFixed(1)}" height="16" fill="${r.ours ? '#2563eb' : '#9ca3af'}"/>`
    svg += `<text x="${x0 + 236 + scale(r.value)}" y="${y + 13}" font-size="12">${esc(r.value)} ${unit}</text>`
  })
  return { svg, height: 14 + rows.length * 22 + 24 }
}

export function renderChart(results) {
  let y = 20
  let body = ''
  if (results.sign) {
    const rows = Object.entries(results.sign).map(([label, s]) => ({ label, value: s.median, ours: label.startsWith('ours') }))
    const b = bars('µs per presigned URL (median, log scale; lower is better)', rows, 'µs', 10, y, 380, true)
    body += b.svg
    y += b.height
  }
  for (const scenario of ['create', 'part', 'params']) {
    const rows = (results.http ?? [])
      .filter((r) => r.scenario === scenario)
      .map((r) => ({ label: r.kind, value: r.rps.median, ours: r.kind.startsWith('ours') }))
    if (rows.length === 0) continue
    const name = { create: 'POST /create', part: 'Uppy part signing', params: 'Uppy /s3/params' }[scenario]
    const b = bars(`${name}: req/s (median; higher is better)`, rows, 'req/s', 10, y, 380, false)
    body += b.svg
    y += b.height
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${y}" font-family="system-ui, sans-serif" font-size="13"><rect width="100%" height="100%" fill="white"/>${body}</svg>\n`
}
