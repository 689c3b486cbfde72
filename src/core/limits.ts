/** S3's limits, and the part arithmetic built on them. */

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB
/** S3's single PUT limit. */
export const MAX_SINGLE_SIZE = 5 * GiB
export const MIN_PART_SIZE = 5 * MiB
export const MAX_PART_SIZE = 5 * GiB
export const MAX_PARTS = 10_000
/** S3's object size limit, 10,000 parts of 5 GiB (AWS calls it 48.8 TiB; it used to be 5 TiB). */
export const MAX_OBJECT_SIZE = MAX_PARTS * MAX_PART_SIZE
/** SigV4's limit on a presigned URL's life: 7 days. */
export const MAX_EXPIRES_IN = 604_800

export { partCountFor, partLength } from '../wire'

/**
 * The part size for a file: the configured one (or 5 MiB), grown so that at most 10,000
 * parts are needed, in whole MiB. Every part but the last has exactly this size (R2 needs
 * equal parts).
 */
export function partSizeFor(size: number, configured: number | undefined): number {
  const needed = Math.ceil(size / MAX_PARTS / MiB) * MiB
  return Math.min(MAX_PART_SIZE, Math.max(configured ?? MIN_PART_SIZE, needed, MIN_PART_SIZE))
}

/** `1.5 MiB`: sizes in messages shown to users. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} bytes` : `${Number(value.toFixed(1))} ${units[unit]}`
}
