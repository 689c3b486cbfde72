// The performance targets, checked against results.json (never in tests).
export function targets(r) {
  const rows = []
  const med = (group, name) => group?.[name]?.median
  const http = (scenario, kind) => r.http?.find((x) => x.scenario === scenario && x.kind === kind)?.rps.median
  const check = (target, value, ok) =>
    rows.push({ target, measured: value ?? 'not measured', met: value === undefined ? '–' : ok ? 'yes' : 'NO' })
  if (r.sign) {
    const ours = med(r.sign, 'ours: the query signer alone')
    const floor = med(r.sign, 'crypto floor (SHA-256 + HMAC)')
    const sdk = med(r.sign, 'getSignedUrl, reused client')
    check('sign cost ≤ 3× the crypto floor', ours && `${(ours / floor).toFixed(1)}×`, ours / floor <= 3)
    check('sign cost ≥ 10× below getSignedUrl', ours && `${(sdk / ours).toFixed(1)}×`, sdk / ours >= 10)
    // Speed relative to one part URL through the same signer (part µs / policy µs; higher is faster).
    const part = med(r.sign, 'ours: one part URL (signer.uploadPart)')
    const post = med(r.sign, 'ours: POST policy (Uppy /s3/params)')
    const sdkPost = med(r.sign, 'createPresignedPost, reused client')
    check('POST policy ≥ 0.8× the speed of part signing', post && part && `${(part / post).toFixed(2)}×`, part / post >= 0.8)
    check(
      'createPresignedPost vs part signing (no target)',
      sdkPost && part && `${(part / sdkPost).toFixed(2)}× (ours ${(sdkPost / post).toFixed(1)}× faster)`,
      true,
    )
  }
  if (r.http) {
    const ex = http('create', 'ours-express')
    const hand = http('create', 'handwritten-express')
    const fetchAdapter = http('create', 'ours-fetch')
    const floor = http('create', 'floor-node-http')
    check('Express POST /create ≥ 2.5× hand-written getSignedUrl endpoint', ex && hand && `${(ex / hand).toFixed(2)}×`, ex / hand >= 2.5)
    check(
      'fetch adapter (via @hono/node-server) ≥ 0.6× the bare node:http floor',
      fetchAdapter && floor && `${(fetchAdapter / floor).toFixed(2)}×`,
      fetchAdapter / floor >= 0.6,
    )
    const node = http('create', 'ours-node-http')
    check(
      'our handler on bare node:http ≥ 0.6× the bare node:http floor',
      node && floor && `${(node / floor).toFixed(2)}×`,
      node / floor >= 0.6,
    )
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
    check(
      `memory flat over ${r.memory.requests} requests`,
      `${h[0]} → ${h[h.length - 1]} MiB, ${r.memory.errors} errors`,
      h[h.length - 1] - h[0] < 5 && r.memory.errors === 0,
    )
  }
  return rows
}
