import * as crypto from 'node:crypto'

/**
 * SHA-256 in one call. `crypto.hash` (Node ≥ 20.12) hashes without building a `Hash` object, which
 * costs more than hashing a few hundred bytes; older Node and runtimes without it use `createHash`.
 * The benches' floors use the same function, so they stay the cheapest way to do that work.
 */
const oneShot = (crypto as { hash?: typeof crypto.hash }).hash

export const sha256Hex: (data: string) => string = oneShot
  ? (data) => oneShot('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex')

export const sha256: (data: string) => Buffer = oneShot
  ? (data) => oneShot('sha256', data, 'buffer')
  : (data) => crypto.createHash('sha256').update(data).digest()
