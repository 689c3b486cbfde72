import { s3Code, s3Status } from '../core/storage'

export { s3Code, s3Status }

/** `403 AccessDenied`, `404 NoSuchBucket`, or the error's own words when S3 never answered. */
export function describeError(error: unknown): string {
  const status = s3Status(error)
  const code = s3Code(error)
  if (status === undefined) return `${code ?? 'Error'}: ${(error as { message?: string } | undefined)?.message ?? String(error)}`
  return code && code !== 'Unknown' && code !== 'UnknownError' ? `${status} ${code}` : `${status}`
}
