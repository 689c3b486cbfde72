// The issues' performance targets, checked against results.json (never in tests). Ratios compare
// figures of the same run: the machine's speed cancels out.
import {
  CLIENT_BATCHES,
  CREATE,
  CREATE_ASYNC_RULE,
  CREATE_FLOOR,
  CREATE_SYNC_RULE,
  IN_PROCESS,
  PARTS,
  PARTS_ASYNC_RULE,
  PARTS_SYNC_RULE,
  SIGNER_ALONE,
} from './_names.mjs'

export function targets(r) {
  const rows = []
  // Figures as measured: `median`, and `perRound` when the bench keeps each round's figure.
  const med = (group, name) => group?.[name]
  const http = (scenario, kind) => r.http?.find((x) => x.scenario === scenario && x.kind === kind)?.rps
  /**
   * `a / b`, paired: the median of the ratios of figures measured side by side, slice by slice
   * when both contenders keep each slice's figure (in process: 70 slices, each contender in turn
   * within milliseconds), else round by round (HTTP), so a slow stretch of the machine falls on
   * both. Otherwise the ratio of the medians.
   */
  const q = (a, b) => {
    if (!a || !b) return Number.NaN
    const paired = (pa, pb) => {
      if (!pa || !pb || pa.length !== pb.length || pa.length === 0) return undefined
      const ratios = pa.map((v, i) => v / pb[i]).sort((x, y) => x - y)
      return ratios[Math.floor(ratios.length / 2)]
    }
    return paired(a.perSlice, b.perSlice) ?? paired(a.perRound, b.perRound) ?? a.median / b.median
  }
  const check = (target, value, ok) =>
    rows.push({ target, measured: value ?? 'not measured', met: value === undefined ? '–' : ok ? 'yes' : 'NO' })
  /** `ours / theirs` as `0.64×` when both were measured, and whether it reaches `min`. */
  const atLeast = (target, ours, theirs, min) => {
    const ratio = q(ours, theirs)
    check(target, Number.isNaN(ratio) ? undefined : `${ratio.toFixed(2)}×`, ratio >= min)
  }
  if (r.sign) {
    const ours = med(r.sign, 'ours: the query signer alone')
    const floor = med(r.sign, 'crypto floor (SHA-256 + HMAC)')
    const sdk = med(r.sign, 'getSignedUrl, reused client')
    check('sign cost ≤ 3× the crypto floor', ours && `${q(ours, floor).toFixed(1)}×`, q(ours, floor) <= 3)
    check('sign cost ≥ 10× below getSignedUrl', ours && `${q(sdk, ours).toFixed(1)}×`, q(sdk, ours) >= 10)
    const create = med(r.sign, CREATE)
    const createFloor = med(r.sign, CREATE_FLOOR)
    check(
      'create ≤ 2× its floor (signature, token HMAC, AES-GCM tag, random id)',
      create && createFloor && `${q(create, createFloor).toFixed(2)}× (medians: ${(create.median / createFloor.median).toFixed(2)}×)`,
      q(create, createFloor) <= 2,
    )
    // Speed relative to one part URL through the same signer (part µs / policy µs; higher is faster).
    const part = med(r.sign, 'ours: one part URL (signer.uploadPart)')
    const post = med(r.sign, 'ours: POST policy (Uppy /s3/params)')
    const sdkPost = med(r.sign, 'createPresignedPost, reused client')
    check('POST policy ≥ 0.8× the speed of part signing', post && part && `${q(part, post).toFixed(2)}×`, q(part, post) >= 0.8)
    check(
      'createPresignedPost vs part signing (no target)',
      sdkPost && part && `${q(part, sdkPost).toFixed(2)}× (ours ${q(sdkPost, post).toFixed(1)}× faster)`,
      true,
    )
    // Issue 13: a rule given as a function costs at most 15% (speed ≥ 0.85× the static rules').
    const parts = med(r.sign, PARTS)
    for (const [target, fn, base] of [
      ['create, maxFileSize a sync function ≥ 0.85× the speed of static rules', CREATE_SYNC_RULE, create],
      ['create, maxFileSize an async function ≥ 0.85× the speed of static rules', CREATE_ASYNC_RULE, create],
      ['sign-parts, maxFileSize a sync function ≥ 0.85× the speed of static rules', PARTS_SYNC_RULE, parts],
      ['sign-parts, maxFileSize an async function ≥ 0.85× the speed of static rules', PARTS_ASYNC_RULE, parts],
    ]) {
      atLeast(target, base, med(r.sign, fn), 0.85) // speed ratio: static µs / function µs
    }
  }
  if (r.http) {
    const ex = http('create', 'ours-express')
    const hand = http('create', 'handwritten-express')
    check('Express POST /create ≥ 2.5× hand-written getSignedUrl endpoint', ex && hand && `${q(ex, hand).toFixed(2)}×`, q(ex, hand) >= 2.5)
    // Issue 14: each adapter against the floor's work on the same stack (POST /create).
    atLeast(
      'fetch adapter ≥ 0.6× a bare fetch handler on the same bridge (@hono/node-server)',
      http('create', 'ours-fetch'),
      http('create', 'bare-fetch'),
      0.6,
    )
    atLeast(
      'our handler on bare node:http ≥ 0.6× the bare node:http floor',
      http('create', 'ours-node-http'),
      http('create', 'floor-node-http'),
      0.6,
    )
    atLeast('Express middleware ≥ 0.8× a bare Express handler doing the floor’s work', ex, http('create', 'bare-express'), 0.8)
    const fetchAdapter = http('create', 'ours-fetch')
    const floor = http('create', 'floor-node-http')
    check(
      'fetch adapter (via @hono/node-server) vs the bare node:http floor (no target)',
      fetchAdapter && floor && `${q(fetchAdapter, floor).toFixed(2)}×`,
      true,
    )
    const uppy = http('part', 'ours-express')
    const companion = http('part', 'companion')
    check('Uppy part signing ≥ 5× Companion', uppy && companion && `${q(uppy, companion).toFixed(1)}×`, q(uppy, companion) >= 5)
    const params = http('params', 'ours-express')
    const companionParams = http('params', 'companion')
    check('Uppy /s3/params vs Companion (no target)', params && companionParams && `${q(params, companionParams).toFixed(1)}×`, true)
  }
  if (r.parts) {
    const inProcess = med(r.parts, IN_PROCESS)
    const alone = med(r.parts, SIGNER_ALONE)
    const ms = inProcess?.median
    const ratio = alone ? `, ${q(inProcess, alone).toFixed(2)}× 10,000 × the signer alone` : ''
    check('10,000 part URLs < 100 ms (in process, 10 calls of 1,000)', ms !== undefined ? `${ms} ms${ratio}` : undefined, ms < 100)
    const batches = med(r.parts, CLIENT_BATCHES)
    if (batches !== undefined) {
      check(
        '10,000 part URLs in the client’s batches of 8 (no target)',
        `${batches.median} ms, ${q(batches, alone).toFixed(2)}× the signer alone`,
        true,
      )
    }
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
