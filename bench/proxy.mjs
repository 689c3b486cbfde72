// App-server CPU-seconds and peak RSS per 100 MB upload: a traditional proxy (multer-s3 into
// Ceph RGW) vs our presign flow (create, PUT straight to RGW, complete). Needs RGW; it is
// started with scripts/start-rgw.sh when installed and not running.
import { execFileSync, spawn } from 'node:child_process'
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { summarize, round } from './_stats.mjs'

const ENDPOINT = process.env.S3_TEST_ENDPOINT ?? 'http://127.0.0.1:7480'
const SIZE = 100 * 1024 * 1024

async function ensureRgw() {
  const up = () =>
    fetch(ENDPOINT, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    )
  if (await up()) return { stop: () => {} }
  try {
    const out = execFileSync('bash', [new URL('../scripts/start-rgw.sh', import.meta.url).pathname], { encoding: 'utf8' })
    const dir = /RGW_DIR=(.*)/.exec(out)?.[1]
    return { stop: () => execFileSync('bash', [new URL('../scripts/stop-rgw.sh', import.meta.url).pathname, dir]) }
  } catch {
    return undefined
  }
}

async function start(kind, bucket) {
  const child = spawn(process.execPath, [new URL('./servers/upload-server.mjs', import.meta.url).pathname, kind, ENDPOINT, bucket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} exited ${code}`)))
    child.stdout.on('data', (c) => {
      const m = /READY (\d+)/.exec(c.toString())
      if (m) resolve(Number(m[1]))
    })
  })
  const base = `http://127.0.0.1:${port}`
  return { base, usage: async () => (await fetch(`${base}/__usage`)).json(), stop: () => child.kill() }
}

const body = new Blob([Buffer.alloc(SIZE, 97)], { type: 'application/octet-stream' })
const post = (url, json) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) }).then((r) => r.json())

const flows = {
  async 'multer-s3 proxy'(base) {
    const form = new FormData()
    form.append('file', body, 'big.bin')
    const res = await fetch(`${base}/upload`, { method: 'POST', body: form })
    if (!res.ok) throw new Error(`multer-s3 answered ${res.status}: ${await res.text()}`)
  },
  async 'presign (ours)'(base) {
    const created = await post(`${base}/uploads/create`, { filename: 'big.bin', contentType: 'application/octet-stream', size: SIZE })
    const put = await fetch(created.url, { method: 'PUT', headers: created.headers, body })
    if (!put.ok) throw new Error(`PUT answered ${put.status}`)
    const done = await post(`${base}/uploads/complete`, { token: created.token })
    if (done.size !== SIZE) throw new Error(`complete answered ${JSON.stringify(done)}`)
  },
}

export async function benchProxy({ rounds = 3 } = {}) {
  const rgw = await ensureRgw()
  if (!rgw) return { skipped: 'Ceph RGW is not installed (see README, Testing)' }
  const bucket = `bench-proxy-${Date.now()}`
  const client = new S3Client({
    endpoint: ENDPOINT,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIATESTTESTTEST0001', secretAccessKey: 'testsecrettestsecrettestsecret0001' },
  })
  await client.send(new CreateBucketCommand({ Bucket: bucket }))
  const results = {}
  try {
    for (const [name, flow] of Object.entries(flows)) {
      const cpu = []
      const rss = []
      for (let r = 0; r < rounds; r++) {
        // A fresh process per upload: peak RSS is the process's own high-water mark.
        const server = await start(name.startsWith('multer') ? 'multer-s3' : 'presign', bucket)
        const before = await server.usage()
        await flow(server.base)
        const after = await server.usage()
        cpu.push(after.cpuSeconds - before.cpuSeconds)
        rss.push(after.peakRssMiB)
        server.stop()
      }
      const s = (v, d) => {
        const x = summarize(v)
        return { min: round(x.min, d), median: round(x.median, d), max: round(x.max, d), runs: x.runs }
      }
      results[name] = { 'app CPU seconds per 100 MB': s(cpu, 3), 'app peak RSS (MiB)': s(rss, 1) }
    }
  } finally {
    // RGW's test cluster keeps objects in RAM (2 GiB): leave nothing behind.
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }))
      if (!page.Contents?.length) break
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: page.Contents.map((o) => ({ Key: o.Key })) } }))
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }))
    client.destroy()
    rgw.stop()
  }
  return results
}
