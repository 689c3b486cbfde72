import { MAX_PARTS, MAX_PART_SIZE, MiB, MIN_PART_SIZE } from './options'

/**
 * The part size for a file: the configured one (or 5 MiB), grown so that at most 10,000
 * parts are needed, in whole MiB. Every part but the last has exactly this size (R2 needs
 * equal parts).
 */
export function partSizeFor(size: number, configured: number | undefined): number {
  const needed = Math.ceil(size / MAX_PARTS / MiB) * MiB
  return Math.min(MAX_PART_SIZE, Math.max(configured ?? MIN_PART_SIZE, needed, MIN_PART_SIZE))
}

export function partCountFor(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize))
}

/** The exact length of part `n` (1-based) of a `size`-byte file. */
export function partLength(n: number, size: number, partSize: number): number {
  return n < partCountFor(size, partSize) ? partSize : size - partSize * (partCountFor(size, partSize) - 1)
}
