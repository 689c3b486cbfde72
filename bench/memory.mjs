// Heap after a full GC across 100,000 `create` requests through Express (the load test's app,
// in its own process): flat means no per-request retention.
import { spawn } from 'node:child_process'
import autocannon from 'autocannon'

export async function benchMemory({ requests = 100_000, checkpoints = 4 } = {}) {
  const child = spawn(process.execPath, ['--expose-gc', new URL('../test/fixtures/load-server.mjs', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const base = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)))
    child.stdout.on('data', (c) => {
      const port = /LISTENING (\d+)/.exec(c.toString())?.[1]
      if (port) resolve(`http://127.0.0.1:${port}`)
    })
  })
  const heap = async () => ((await (await fetch(`${base}/__heap`)).json()).heapUsed / 2 ** 20).toFixed(1)
  const load = (amount) =>
    autocannon({
      url: `${base}/uploads/create`,
      method: 'POST',
      connections: 100,
      amount,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'photo.png', contentType: 'image/png', size: 123456 }),
    })
  await load(5_000)
  const heapMiB = [Number(await heap())]
  let errors = 0
  for (let i = 0; i < checkpoints; i++) {
    const r = await load(requests / checkpoints)
    errors += r.errors + r.non2xx + r.timeouts
    heapMiB.push(Number(await heap()))
  }
  child.kill()
  return { requests, errors, 'heap after GC at each checkpoint (MiB)': heapMiB }
}
