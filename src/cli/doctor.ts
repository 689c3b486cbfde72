import {
  type CORSRule,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { s3Code, s3Status } from '../core/storage'

/**
 * The bucket doctor: checks what direct browser uploads need (CORS for the app's origin, the
 * methods and headers we sign, `ETag` exposed; a lifecycle rule aborting abandoned multipart
 * uploads; public access blocked) and says what is wrong in plain words. `fix` applies the
 * recommended configuration, keeping the bucket's other rules.
 */

export interface DoctorCheck {
  name: 'cors' | 'lifecycle' | 'public-access'
  status: 'ok' | 'problem' | 'fixed' | 'unsupported'
  message: string
}

export interface DoctorOptions {
  client: S3Client
  bucket: string
  /** The app's origin; `*` when not given. */
  origin?: string
  fix?: boolean
}

const METHODS = ['GET', 'PUT', 'POST', 'HEAD']
const HEADERS = ['content-type', 'if-none-match', 'x-amz-meta-*', 'x-amz-checksum-sha256']
const EXPOSE = ['ETag', 'Location']
const LIFECYCLE_ID = 's3-presign-middleware-abort-incomplete-multipart'

export function recommendedCorsRule(origin = '*'): CORSRule {
  return { AllowedOrigins: [origin], AllowedMethods: METHODS, AllowedHeaders: HEADERS, ExposeHeaders: EXPOSE, MaxAgeSeconds: 3600 }
}

/** Does a CORS pattern (`*`, `x-amz-meta-*`, `https://*.example.com`) cover a value? */
function covers(patterns: string[] | undefined, value: string): boolean {
  return (patterns ?? []).some((p) => {
    const pattern = p.toLowerCase()
    const star = pattern.indexOf('*')
    return star < 0 ? pattern === value.toLowerCase() : value.toLowerCase().startsWith(pattern.slice(0, star)) && value.toLowerCase().endsWith(pattern.slice(star + 1))
  })
}

function corsGaps(rules: CORSRule[], origin: string): string[] {
  const rule = rules.find((r) => covers(r.AllowedOrigins, origin))
  if (!rule) return [`no CORS rule allows the origin ${origin}`]
  const gaps: string[] = []
  const methods = METHODS.filter((m) => !rule.AllowedMethods?.includes(m))
  if (methods.length) gaps.push(`the rule for ${origin} does not allow ${methods.join(', ')}`)
  const headers = HEADERS.map((h) => h.replace('*', 'example')).filter((h) => !covers(rule.AllowedHeaders, h))
  if (headers.length) gaps.push(`it does not allow the request headers ${headers.join(', ').replace('x-amz-meta-example', 'x-amz-meta-*')}`)
  const exposed = EXPOSE.filter((h) => !(rule.ExposeHeaders ?? []).some((e) => e.toLowerCase() === h.toLowerCase()))
  if (exposed.length) gaps.push(`it does not expose ${exposed.join(' and ')} (browsers cannot read a part's ETag, so multipart uploads stall)`)
  return gaps
}

const unsupported = (error: unknown) => [405, 501].includes(s3Status(error) ?? 0) || s3Code(error) === 'NotImplemented'

export async function runDoctor({ client, bucket, origin = '*', fix = false }: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = []

  // CORS
  let rules: CORSRule[] = []
  try {
    rules = (await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? []
  } catch (error) {
    if (s3Code(error) !== 'NoSuchCORSConfiguration' && s3Status(error) !== 404) throw error
  }
  const gaps = corsGaps(rules, origin)
  if (gaps.length === 0) {
    checks.push({ name: 'cors', status: 'ok', message: `CORS allows ${origin} to upload and exposes ETag and Location.` })
  } else if (fix) {
    // Keep other origins' rules; ours goes first so that browsers match it.
    const others = rules.filter((r) => !covers(r.AllowedOrigins, origin))
    await client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [recommendedCorsRule(origin), ...others] } }))
    checks.push({ name: 'cors', status: 'fixed', message: `CORS: ${gaps.join('; ')}. Added a rule for ${origin}.` })
  } else {
    checks.push({ name: 'cors', status: 'problem', message: `CORS: ${gaps.join('; ')}. Run with --fix to add the recommended rule.` })
  }

  // Lifecycle: abandoned multipart uploads cost storage until aborted.
  try {
    let lifecycle: LifecycleRule[] = []
    try {
      lifecycle = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? []
    } catch (error) {
      if (s3Code(error) !== 'NoSuchLifecycleConfiguration' && s3Status(error) !== 404) throw error
    }
    const aborting = lifecycle.some((r) => r.Status === 'Enabled' && r.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined)
    if (aborting) {
      checks.push({ name: 'lifecycle', status: 'ok', message: 'A lifecycle rule aborts incomplete multipart uploads.' })
    } else if (fix) {
      const rule: LifecycleRule = { ID: LIFECYCLE_ID, Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }
      await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [...lifecycle, rule] } }))
      checks.push({ name: 'lifecycle', status: 'fixed', message: 'No lifecycle rule aborted incomplete multipart uploads: added one (after 2 days).' })
    } else {
      checks.push({ name: 'lifecycle', status: 'problem', message: 'No lifecycle rule aborts incomplete multipart uploads: abandoned parts are stored (and billed) forever. Run with --fix to add one.' })
    }
  } catch (error) {
    if (!unsupported(error)) throw error
    checks.push({ name: 'lifecycle', status: 'unsupported', message: 'Lifecycle rules: not supported by this store.' })
  }

  // Public access block
  try {
    let blocked = false
    try {
      const c = (await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration
      blocked = !!(c?.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets)
    } catch (error) {
      if (s3Code(error) !== 'NoSuchPublicAccessBlockConfiguration' && s3Status(error) !== 404) throw error
    }
    if (blocked) {
      checks.push({ name: 'public-access', status: 'ok', message: 'Public access is blocked: objects are reachable only through presigned URLs.' })
    } else if (fix) {
      await client.send(
        new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } }),
      )
      checks.push({ name: 'public-access', status: 'fixed', message: 'Public access was not blocked: blocked it.' })
    } else {
      checks.push({ name: 'public-access', status: 'problem', message: 'Public access is not blocked: a public ACL or policy could expose uploads. Run with --fix to block it.' })
    }
  } catch (error) {
    if (!unsupported(error)) throw error
    checks.push({ name: 'public-access', status: 'unsupported', message: 'Blocking public access: not supported by this store.' })
  }

  return checks
}
