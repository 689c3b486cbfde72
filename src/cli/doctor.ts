import {
  type CORSRule,
  DeletePublicAccessBlockCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutPublicAccessBlockCommand,
  type PublicAccessBlockConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3'
import { publicAclProbe, roundTrip, unsignedHeaderProbe, uploadWorks } from './_probe'
import { describeError, s3Code, s3Status } from './_s3'

/**
 * The bucket doctor: checks what direct browser uploads need and, with `fix`, repairs it without
 * ever widening access or removing a rule it did not write. CORS for the app's origin (added to,
 * never replaced), a lifecycle rule aborting abandoned multipart uploads (merged with the others),
 * public ACLs ignored and public policies blocked with flags that keep uploads working. Then it
 * proves the result with real presigned requests: a browser's round trip, an uploader adding
 * `x-amz-acl: public-read`, and whether the store refuses unsigned `x-amz-*` headers at all.
 */

export interface DoctorCheck {
  name: 'cors' | 'lifecycle' | 'public-access' | 'round-trip' | 'public-acl' | 'unsigned-headers'
  /** `problem` makes the CLI exit 1; `warning` is a risk the bucket's configuration cannot remove */
  status: 'ok' | 'fixed' | 'problem' | 'warning' | 'skipped' | 'unsupported'
  message: string
}

export interface DoctorOptions {
  client: S3Client
  bucket: string
  /** The app's origin (`https://app.example.com`); required with `fix`. Never `*`. */
  origin?: string
  fix?: boolean
  /**
   * Check (and with `fix`, write) a lifecycle rule expiring objects still tagged
   * `presign-pending=1` (option `pendingTag`) after this many days: uploads nobody completed.
   */
  expirePendingDays?: number
}

const METHODS = ['PUT', 'POST', 'GET', 'HEAD']
/** What the middleware signs into uploads (type, condition, metadata, checksum, the `object` settings). */
const HEADERS = [
  'content-type',
  'if-none-match',
  'x-amz-meta-*',
  'x-amz-checksum-sha256',
  'cache-control',
  'content-disposition',
  'x-amz-server-side-encryption*',
  'x-amz-storage-class',
  'x-amz-tagging',
]
const EXPOSE = ['ETag', 'Location']
const MAX_AGE = 3600
const LIFECYCLE_ID = 's3-presign-middleware-abort-incomplete-multipart'
const PENDING_LIFECYCLE_ID = 's3-presign-middleware-expire-pending'
const PENDING_TAG = { Key: 'presign-pending', Value: '1' }
/** Public ACLs ignored, public policies blocked. Not `BlockPublicAcls`: Ceph RGW 16 refuses every upload with it. */
const PUBLIC_ACCESS_FLAGS = ['IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const

/** The ID of the CORS rule the doctor writes for an origin. */
export const corsRuleId = (origin: string) => `s3-presign-middleware ${origin}`

/** Does a CORS pattern (`*`, `x-amz-meta-*`, `https://*.example.com`) cover a value? */
function covers(patterns: string[] | undefined, value: string): boolean {
  const v = value.toLowerCase()
  return (patterns ?? []).some((p) => {
    const pattern = p.toLowerCase()
    const star = pattern.indexOf('*')
    return star < 0
      ? pattern === v
      : v.length >= pattern.length - 1 && v.startsWith(pattern.slice(0, star)) && v.endsWith(pattern.slice(star + 1))
  })
}

/** A needed header pattern (`x-amz-meta-*`) is covered when every name it stands for is. */
const coversHeader = (patterns: string[] | undefined, needed: string) =>
  needed.endsWith('*')
    ? covers(patterns, needed.slice(0, -1)) && covers(patterns, `${needed.slice(0, -1)}-probe`)
    : covers(patterns, needed)

const sameText = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
const onlyFor = (rule: CORSRule, origin: string) => rule.AllowedOrigins?.length === 1 && sameText(rule.AllowedOrigins[0]!, origin)

/** `rule` plus the given methods, request headers and exposed headers it lacks; nothing it allowed is taken away. */
function widen(rule: CORSRule, methods: string[], headers: string[], expose: string[]): CORSRule {
  const allowedMethods = rule.AllowedMethods ?? []
  const allowedHeaders = rule.AllowedHeaders ?? []
  const exposed = rule.ExposeHeaders ?? []
  return {
    ...rule,
    AllowedMethods: [...allowedMethods, ...methods.filter((m) => !allowedMethods.some((a) => sameText(a, m)))],
    AllowedHeaders: [...allowedHeaders, ...headers.filter((h) => !coversHeader(allowedHeaders, h))],
    ExposeHeaders: [...exposed, ...expose.filter((h) => !exposed.some((e) => sameText(e, h)))],
    MaxAgeSeconds: rule.MaxAgeSeconds ?? MAX_AGE,
  }
}

const forUploads = (rule: CORSRule) => widen(rule, METHODS, HEADERS, EXPOSE)

/** What `rule` lacks for uploads, in plain words (empty when nothing). */
function corsGaps(rule: CORSRule): string[] {
  const methods = METHODS.filter((m) => !(rule.AllowedMethods ?? []).some((a) => sameText(a, m)))
  const headers = HEADERS.filter((h) => !coversHeader(rule.AllowedHeaders, h))
  const expose = EXPOSE.filter((h) => !(rule.ExposeHeaders ?? []).some((e) => sameText(e, h)))
  const gaps: string[] = []
  if (methods.length) gaps.push(`does not allow ${methods.join(', ')}`)
  if (headers.length) gaps.push(`does not allow the request headers ${headers.join(', ')}`)
  if (expose.length)
    gaps.push(`does not expose ${expose.join(' and ')} (browsers then cannot read a part's ETag, and multipart uploads stall)`)
  return gaps
}

const joinAnd = (parts: readonly string[]) => (parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : (parts[0] ?? ''))

/**
 * The CORS rules with uploads from `origin` allowed, or `undefined` when they already are.
 *
 * Stores disagree on which rule answers: AWS takes the first rule matching origin, method and
 * headers; Ceph RGW takes the first rule matching the origin and refuses if it lacks the method or
 * a header. So the first rule matching the origin must allow everything uploads need. If that rule
 * is only for this origin, it is extended; if it also serves other origins (`*`), a rule for this
 * origin alone goes right before it, allowing what it allowed plus uploads; with no rule matching
 * the origin, one is appended. Nothing is removed, and no other origin gains anything.
 */
export function mergeCors(rules: CORSRule[], origin: string): { rules: CORSRule[]; gaps: string[]; change: string } | undefined {
  const first = rules.findIndex((r) => covers(r.AllowedOrigins, origin))
  if (first < 0) {
    const ours: CORSRule = { ID: corsRuleId(origin), AllowedOrigins: [origin], AllowedMethods: [], AllowedHeaders: [], ExposeHeaders: [] }
    return {
      rules: [...rules, forUploads(ours)],
      gaps: [`no CORS rule allows the origin ${origin}`],
      change: `Added a rule for ${origin}.`,
    }
  }
  const rule = rules[first]!
  const lacks = corsGaps(rule)
  if (lacks.length === 0) return undefined
  const next = [...rules]
  if (onlyFor(rule, origin)) {
    next[first] = forUploads(rule)
    return {
      rules: next,
      gaps: [`the rule for ${origin} ${joinAnd(lacks)}`],
      change: `Extended the rule for ${origin}${rule.ID ? ` ("${rule.ID}")` : ''}, keeping what it allowed.`,
    }
  }
  let ours = forUploads({ ...rule, ID: corsRuleId(origin), AllowedOrigins: [origin] })
  // A rule the doctor wrote earlier, now behind this one: folded into the new rule rather than left as a twin.
  const earlier = next.findIndex((r, i) => i > first && r.ID === corsRuleId(origin) && onlyFor(r, origin))
  if (earlier !== -1) {
    const [old] = next.splice(earlier, 1)
    ours = widen(ours, old!.AllowedMethods ?? [], old!.AllowedHeaders ?? [], old!.ExposeHeaders ?? [])
  }
  next.splice(first, 0, ours)
  return {
    rules: next,
    gaps: [`the first rule matching ${origin} (the one for ${(rule.AllowedOrigins ?? []).join(', ')}) ${joinAnd(lacks)}`],
    change: `Added a rule for ${origin} before it, allowing what it allowed plus uploads (other origins are unaffected).`,
  }
}

const unsupported = (error: unknown) => [405, 501].includes(s3Status(error) ?? 0) || s3Code(error) === 'NotImplemented'
/** The store has no such configuration (a missing bucket is not that). */
const missing = (error: unknown, code: string) => s3Code(error) === code || (s3Status(error) === 404 && s3Code(error) !== 'NoSuchBucket')

async function checkCors({ client, bucket, origin, fix }: DoctorOptions): Promise<DoctorCheck> {
  if (!origin) {
    return {
      name: 'cors',
      status: 'skipped',
      message: "CORS: not checked; pass --origin with your app's origin (e.g. --origin https://app.example.com).",
    }
  }
  let rules: CORSRule[] = []
  try {
    rules = (await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? []
  } catch (error) {
    if (!missing(error, 'NoSuchCORSConfiguration')) throw error
  }
  const merged = mergeCors(rules, origin)
  if (!merged)
    return {
      name: 'cors',
      status: 'ok',
      message: `CORS allows ${origin} to upload (PUT, POST, GET, HEAD and the signed headers) and exposes ETag and Location.`,
    }
  if (!fix)
    return {
      name: 'cors',
      status: 'problem',
      message: `CORS: ${merged.gaps.join('; ')}. Run with --fix to add what is missing (other rules are kept).`,
    }
  await client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: merged.rules } }))
  return { name: 'cors', status: 'fixed', message: `CORS: ${merged.gaps.join('; ')}. ${merged.change}` }
}

/** A rule for the whole bucket: no prefix, tag or size filter. */
function wholeBucket(rule: LifecycleRule): boolean {
  const f = rule.Filter
  return (
    !rule.Prefix && (!f || (!f.Prefix && !f.Tag && !f.And && f.ObjectSizeGreaterThan === undefined && f.ObjectSizeLessThan === undefined))
  )
}

/** A rule expiring objects tagged pending (and nothing else) after at most `days` days. */
function expiresPending(rule: LifecycleRule, days: number): boolean {
  const tag = rule.Filter?.Tag
  return (
    rule.Status === 'Enabled' &&
    tag?.Key === PENDING_TAG.Key &&
    tag.Value === PENDING_TAG.Value &&
    rule.Expiration?.Days !== undefined &&
    rule.Expiration.Days <= days
  )
}

async function checkLifecycle({ client, bucket, fix, expirePendingDays }: DoctorOptions): Promise<DoctorCheck> {
  try {
    let rules: LifecycleRule[] = []
    try {
      rules = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? []
    } catch (error) {
      if (!missing(error, 'NoSuchLifecycleConfiguration')) throw error
    }
    const aborting = rules.some(
      (r) => r.Status === 'Enabled' && r.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined && wholeBucket(r),
    )
    const pending = expirePendingDays === undefined || rules.some((r) => expiresPending(r, expirePendingDays))
    const pendingText = `objects still tagged ${PENDING_TAG.Key}=1 (uploads nobody completed) expire after ${expirePendingDays} days`
    if (aborting && pending) {
      return {
        name: 'lifecycle',
        status: 'ok',
        message: `A lifecycle rule aborts incomplete multipart uploads${expirePendingDays === undefined ? '' : `, and ${pendingText}`}.`,
      }
    }
    const lacking = [
      ...(aborting
        ? []
        : ['no lifecycle rule aborts incomplete multipart uploads in the whole bucket: abandoned parts are stored (and billed) forever']),
      ...(pending ? [] : [`no lifecycle rule makes ${pendingText}`]),
    ]
    if (!fix) {
      const text = lacking.join('; and ')
      return {
        name: 'lifecycle',
        status: 'problem',
        message: `${text[0]!.toUpperCase()}${text.slice(1)}. Run with --fix to add ${lacking.length > 1 ? 'them' : 'it'} (other rules are kept).`,
      }
    }
    const ours: LifecycleRule[] = []
    if (!aborting) {
      ours.push({ ID: LIFECYCLE_ID, Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } })
    }
    if (!pending) {
      ours.push({ ID: PENDING_LIFECYCLE_ID, Status: 'Enabled', Filter: { Tag: PENDING_TAG }, Expiration: { Days: expirePendingDays! } })
    }
    // Only a rule we wrote may be replaced (say, one disabled since); every other rule is written back as read.
    const kept = rules.filter((r) => !ours.some((o) => o.ID === r.ID))
    await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [...kept, ...ours] } }))
    const added = [
      ...(aborting ? [] : ['one aborting incomplete multipart uploads after 2 days']),
      ...(pending ? [] : [`one by which ${pendingText}`]),
    ]
    return {
      name: 'lifecycle',
      status: 'fixed',
      message: `Added lifecycle rules: ${added.join('; and ')}${kept.length ? `, keeping the ${kept.length} other rule${kept.length > 1 ? 's' : ''}` : ''}.`,
    }
  } catch (error) {
    if (!unsupported(error)) throw error
    return { name: 'lifecycle', status: 'unsupported', message: 'Lifecycle rules: not supported by this store.' }
  }
}

/** Sets the flags that keep public ACLs and policies ineffective, then proves uploads still work (else puts the old flags back). */
async function checkPublicAccess(options: DoctorOptions, state: { blockPublicAcls: boolean }): Promise<DoctorCheck> {
  const { client, bucket, fix } = options
  try {
    let current: PublicAccessBlockConfiguration | undefined
    try {
      current = (await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration
    } catch (error) {
      if (!missing(error, 'NoSuchPublicAccessBlockConfiguration')) throw error
    }
    state.blockPublicAcls = current?.BlockPublicAcls === true
    const off = PUBLIC_ACCESS_FLAGS.filter((f) => current?.[f] !== true)
    if (off.length === 0) {
      return {
        name: 'public-access',
        status: 'ok',
        message: `Public access: ${joinAnd(PUBLIC_ACCESS_FLAGS)} are on (public ACLs are ignored, public policies refused).`,
      }
    }
    if (!fix) {
      return {
        name: 'public-access',
        status: 'problem',
        message: `Public access: ${joinAnd(off)} ${off.length > 1 ? 'are' : 'is'} off, so a public ACL or policy could expose uploads. Run with --fix to turn ${off.length > 1 ? 'them' : 'it'} on.`,
      }
    }
    const before = await uploadWorks(options)
    // Existing true flags stay true; BlockPublicAcls is never turned on (Ceph RGW 16 refuses every upload with it).
    const next: PublicAccessBlockConfiguration = { ...current, ...Object.fromEntries(PUBLIC_ACCESS_FLAGS.map((f) => [f, true])) }
    await client.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: next }))
    const after = await uploadWorks(options)
    if (before.ok && !after.ok) {
      if (current) await client.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: current }))
      else await client.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }))
      return {
        name: 'public-access',
        status: 'problem',
        message: `Public access: turning on ${joinAnd(off)} made uploads fail (${after.failure}), so the doctor put the previous settings back. Block public access in a way this store supports, and run the doctor again.`,
      }
    }
    const uploads = after.ok ? 'uploads still work' : `uploads fail as they did before (${after.failure})`
    return {
      name: 'public-access',
      status: 'fixed',
      message: `Public access: turned on ${joinAnd(off)}; ${uploads}. BlockPublicAcls was left ${current?.BlockPublicAcls ? 'on' : 'off'}.`,
    }
  } catch (error) {
    if (!unsupported(error)) throw error
    return { name: 'public-access', status: 'unsupported', message: 'Blocking public access: not supported by this store.' }
  }
}

/** Runs every check; with `fix`, repairs what it can first, then proves the bucket with real requests. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const { origin, fix = false } = options
  if (origin !== undefined && (origin.includes('*') || origin.trim() === ''))
    throw new Error('The doctor writes CORS for one exact origin, never a wildcard.')
  if (fix && !origin)
    throw new Error("--fix needs --origin: the doctor writes CORS for your app's origin only, never for every origin (*).")
  const checks: DoctorCheck[] = []
  const step = async (name: DoctorCheck['name'], what: string, run: () => Promise<DoctorCheck>) => {
    try {
      checks.push(await run())
    } catch (error) {
      checks.push({ name, status: 'problem', message: `${what}: the store answered ${describeError(error)}.` })
    }
  }
  const state = { blockPublicAcls: false }

  await step('cors', fix ? 'CORS could not be read or written' : 'CORS could not be read', () => checkCors(options))
  await step('lifecycle', fix ? 'Lifecycle rules could not be read or written' : 'Lifecycle rules could not be read', () =>
    checkLifecycle(options),
  )
  await step(
    'public-access',
    fix ? 'Public access settings could not be read or written' : 'Public access settings could not be read',
    () => checkPublicAccess(options, state),
  )

  let uploads = false
  await step('round-trip', 'The probe upload failed', async () => {
    const trip = await roundTrip(options, origin)
    uploads = trip.uploads.ok
    const what = 'a presigned PUT, GET and DELETE of a probe object'
    if (!trip.uploads.ok) {
      const blamed = state.blockPublicAcls
        ? ' BlockPublicAcls is on, and some stores (Ceph RGW) refuse every upload with it: turn it off; IgnorePublicAcls keeps public ACLs without effect (the doctor never turns off a setting it did not make).'
        : ''
      return { name: 'round-trip', status: 'problem', message: `UPLOADS FAIL: ${what} did not work: ${trip.uploads.failure}.${blamed}` }
    }
    if (trip.browser && !trip.browser.ok) {
      return {
        name: 'round-trip',
        status: 'problem',
        message: `Browsers on ${origin} cannot upload: ${trip.browser.failure} (${what} worked without CORS).`,
      }
    }
    return {
      name: 'round-trip',
      status: 'ok',
      message: `Uploads work: ${what} succeeded${origin ? `, and a browser on ${origin} may send them (preflight allowed, ETag exposed)` : ''}.`,
    }
  })
  if (!uploads) {
    checks.push({
      name: 'public-acl',
      status: 'skipped',
      message: 'The public ACL and unsigned header probes did not run: they need uploads to work.',
    })
    return checks
  }

  await step('public-acl', 'The public ACL probe failed', async () => {
    const acl = await publicAclProbe(options)
    const attack = 'An uploader who adds an unsigned x-amz-acl: public-read to a presigned PUT'
    if (acl.result === 'public') {
      return {
        name: 'public-acl',
        status: 'problem',
        message: `${attack} gets a publicly readable object (${acl.answer}). Run with --fix to turn on IgnorePublicAcls.`,
      }
    }
    return { name: 'public-acl', status: 'ok', message: `${attack} does not get a public object (${acl.answer}).` }
  })

  await step('unsigned-headers', 'The unsigned header probe failed', async () => {
    const probe = await unsignedHeaderProbe(options)
    if (probe.refused)
      return {
        name: 'unsigned-headers',
        status: 'ok',
        message: `The store refuses unsigned x-amz-* headers on presigned requests (${probe.answer}).`,
      }
    return {
      name: 'unsigned-headers',
      status: 'warning',
      message:
        `The store accepts unsigned x-amz-* headers on presigned requests (a PUT with an unsigned x-amz-meta-probe got ${probe.answer}): ` +
        'whoever holds an upload URL can add x-amz-copy-source and copy any object the signing credentials can read. ' +
        'Sign upload URLs with write-only credentials: the uploadCredentials option (see SECURITY.md).',
    }
  })
  return checks
}
