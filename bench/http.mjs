// req/s and latency of the routes that sign, per server, with autocannon in this process and each
// server in a child process of its own; contenders alternate within each round.
import { spawn } from 'node:child_process'
import autocannon from 'autocannon'
import { summarize, round } from './_stats.mjs'

// `bare-*` and `floor-node-http` do the same work (the floor's: a key, the signer alone, JSON) on
// the stack each of ours runs on: Express, the fetch bridge, bare node:http.
export const CONTENDERS = [
  'ours-express',
  'bare-express',
  'ours-koa',
  'ours-fetch',
  'bare-fetch',
  'ours-node-http',
  'floor-node-http',
  'handwritten-express',
  'companion',
]

async function start(kind) {
  const child = spawn(process.execPath, [new URL('./servers/server.mjs', import.meta.url).pathname, kind], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  })
  let err = ''
  child.stderr.on('data', (c) => (err += c))
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start: ${err.slice(-500)}`)), 30_000)
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}: ${err.slice(-500)}`)))
    child.stdout.on('data', (chunk) => {
      const m = /READY (\d+) (.*)/.exec(chunk.toString())
      if (m) {
        clearTimeout(timer)
        resolve({ port: Number(m[1]), scenarios: JSON.parse(m[2]) })
      }
    })
  })
  return { ...ready, stop: () => child.kill() }
}

function load(port, scenario, seconds) {
  return autocannon({
    url: `http://127.0.0.1:${port}${scenario.path}`,
    method: scenario.method,
    connections: 50,
    duration: seconds,
    headers: scenario.body ? { 'content-type': 'application/json' } : {},
    ...(scenario.body ? { body: scenario.body } : {}),
  })
}

export async function benchHttp({ rounds = 5, seconds = 3, contenders = CONTENDERS } = {}) {
  const servers = {}
  for (const kind of contenders) {
    try {
      servers[kind] = await start(kind)
    } catch (error) {
      console.warn(`[bench] ${kind} skipped: ${error.message}`)
    }
  }
  // Scenario by scenario, the servers serving it in turn, the order reversed every other round: the
  // contenders a target compares (ours-express and bare-express, ...) run back to back, and neither
  // always runs first, so a slow stretch of the machine falls on both alike.
  const scenarios = [...new Set(Object.values(servers).flatMap((server) => Object.keys(server.scenarios)))]
  const samples = {}
  for (let r = 0; r < rounds; r++) {
    for (const scenario of scenarios) {
      const serving = Object.entries(servers).filter(([, server]) => server.scenarios[scenario])
      if (r % 2 === 1) serving.reverse()
      for (const [kind, server] of serving) {
        const spec = server.scenarios[scenario]
        if (r === 0) await load(server.port, spec, 1) // warm-up
        const result = await load(server.port, spec, seconds)
        const s = (samples[`${scenario} ${kind}`] ??= { scenario, kind, rps: [], p50: [], p99: [], errors: 0 })
        s.rps.push(result.requests.average)
        s.p50.push(result.latency.p50)
        s.p99.push(result.latency.p99)
        s.errors += result.errors + result.non2xx + result.timeouts
      }
    }
  }
  for (const server of Object.values(servers)) server.stop()
  return Object.values(samples).map((s) => ({
    scenario: s.scenario,
    kind: s.kind,
    rps: summarizeRounded(s.rps, 0),
    p50: summarizeRounded(s.p50),
    p99: summarizeRounded(s.p99),
    errors: s.errors,
  }))
}

function summarizeRounded(values, digits = 2) {
  const s = summarize(values)
  return { min: round(s.min, digits), median: round(s.median, digits), max: round(s.max, digits), runs: s.runs, perRound: s.perRound }
}
