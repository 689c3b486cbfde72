import { parseArgs } from 'node:util'
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { PROBE_PREFIX } from './_probe'
import { describeError, s3Status } from './_s3'
import { type DoctorCheck, runDoctor } from './doctor'

const USAGE = `Usage: s3-presign-middleware doctor --bucket <name> [--origin <url>] [--fix]
         [--expire-pending <days>] [--region <region>] [--endpoint <url>] [--path-style]

Checks what direct browser uploads need from the bucket, then proves it with real presigned
requests: CORS for your app's origin (methods, the signed headers, ETag and Location exposed),
a lifecycle rule aborting abandoned multipart uploads, public ACLs and policies without effect,
a PUT, GET and DELETE of a probe object (under ${PROBE_PREFIX}, deleted
afterwards), and whether the store refuses unsigned x-amz-* headers on presigned URLs (if it
does not, sign uploads with the uploadCredentials option).

--fix adds what is missing for --origin (required with --fix): it extends or adds one CORS rule
for that origin and never writes "*", merges a lifecycle rule, turns on IgnorePublicAcls,
BlockPublicPolicy and RestrictPublicBuckets (never BlockPublicAcls, which makes some stores
refuse every upload), and never removes a rule it did not write.

--expire-pending <days> (with the pendingTag option) also checks, and with --fix writes, a
lifecycle rule expiring objects still tagged presign-pending=1 after <days> days: uploads that
nobody completed. Choose more days than tokens live (tokenExpiresIn, 1 day by default).

Credentials come from the AWS SDK's usual sources (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, roles); --region or AWS_REGION; --endpoint or S3_ENDPOINT for S3-compatible stores.
Exit codes: 0 all good, 1 a problem was found (or uploads fail), 2 a usage or setup error.`

const MARK: Record<DoctorCheck['status'], string> = { ok: '✓', fixed: '✓', problem: '✗', warning: '!', skipped: '–', unsupported: '–' }

/** `https://app.example.com` (scheme, host, port) from what the user typed, or `undefined` when it is not one. */
function exactOrigin(value: string): string | undefined {
  if (value.includes('*')) return undefined
  try {
    const url = new URL(value)
    const bare = value.replace(/\/$/, '').toLowerCase()
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin.toLowerCase() === bare ? url.origin : undefined
  } catch {
    return undefined
  }
}

/** `s3-presign-middleware doctor ...`; resolves to the exit code. */
export async function main(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  const [command, ...rest] = argv
  if (command !== 'doctor') {
    log(USAGE)
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2
  }
  const options = {
    bucket: { type: 'string' },
    origin: { type: 'string' },
    fix: { type: 'boolean', default: false },
    region: { type: 'string' },
    endpoint: { type: 'string' },
    'path-style': { type: 'boolean', default: false },
    'expire-pending': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  } as const
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options }>>['values']
  try {
    values = parseArgs({ args: rest, options }).values
  } catch (error) {
    log(`${(error as Error).message}: see the options below.\n\n${USAGE}`)
    return 2
  }
  if (values.help) {
    log(USAGE)
    return 0
  }
  if (!values.bucket) {
    log(`--bucket is required: name the bucket uploads go to, e.g. --bucket my-uploads.\n\n${USAGE}`)
    return 2
  }
  let origin: string | undefined
  if (values.origin !== undefined) {
    origin = exactOrigin(values.origin)
    if (!origin) {
      log(
        `--origin must be your app's exact origin, scheme and host (and port), e.g. --origin https://app.example.com; the doctor never writes a CORS rule for a wildcard like "${values.origin}".`,
      )
      return 2
    }
  }
  if (values.fix && !origin) {
    log(
      "--fix needs --origin with your app's origin (e.g. --origin https://app.example.com): the doctor writes CORS for that origin only, never for every origin (*).",
    )
    return 2
  }
  let expirePendingDays: number | undefined
  if (values['expire-pending'] !== undefined) {
    expirePendingDays = Number(values['expire-pending'])
    if (!Number.isInteger(expirePendingDays) || expirePendingDays < 1 || expirePendingDays > 3650) {
      log(`--expire-pending takes a whole number of days from 1 to 3650, e.g. --expire-pending 7; got "${values['expire-pending']}".`)
      return 2
    }
  }
  const endpoint = values.endpoint ?? process.env.S3_ENDPOINT
  const client = new S3Client({
    ...(values.region ? { region: values.region } : {}),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(values['path-style'] ? { forcePathStyle: true } : {}),
    // Presigned probe URLs must not carry the SDK's default CRC32 of an empty body (FACTS.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  try {
    const region = await client.config.region().catch(() => undefined)
    if (!region) {
      log('No region: pass --region (e.g. --region eu-west-1) or set AWS_REGION; S3-compatible stores usually accept us-east-1.')
      return 2
    }
    try {
      await client.config.credentials()
    } catch {
      log(
        'No AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment, as for the AWS CLI.',
      )
      return 2
    }
    const where = endpoint ? `at ${endpoint}` : `in ${region}`
    try {
      await client.send(new HeadBucketCommand({ Bucket: values.bucket }))
    } catch (error) {
      const status = s3Status(error)
      if (status === 404) log(`The bucket "${values.bucket}" does not exist ${where}: check --bucket, --region and --endpoint.`)
      else if (status === 301) log(`The bucket "${values.bucket}" is in another region than ${region}: pass its region with --region.`)
      else if (status === 403)
        log(
          `The store refused these credentials for the bucket "${values.bucket}" (403): check the access key and secret, and that they may use this bucket.`,
        )
      else log(`The bucket "${values.bucket}" could not be reached ${where} (${describeError(error)}): check --endpoint and the network.`)
      return 1
    }
    const checks = await runDoctor({
      client,
      bucket: values.bucket,
      ...(origin ? { origin } : {}),
      fix: values.fix,
      ...(expirePendingDays === undefined ? {} : { expirePendingDays }),
    })
    for (const c of checks) log(`${MARK[c.status]} ${c.message}`)
    return checks.some((c) => c.status === 'problem') ? 1 : 0
  } catch (error) {
    log(`The bucket could not be checked: ${describeError(error)}.`)
    return 1
  } finally {
    client.destroy()
  }
}
