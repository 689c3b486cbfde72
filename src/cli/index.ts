import { parseArgs } from 'node:util'
import { S3Client } from '@aws-sdk/client-s3'
import { runDoctor } from './doctor'

const USAGE = `Usage: s3-presign-middleware doctor --bucket <name> [--origin <url>] [--fix]
         [--region <region>] [--endpoint <url>] [--path-style]

Checks what direct browser uploads need from the bucket: CORS for your app's origin (methods,
the signed headers, ETag exposed), a lifecycle rule aborting abandoned multipart uploads, and
blocked public access. --fix applies the recommended configuration. Credentials come from the
AWS SDK's usual sources (AWS_ACCESS_KEY_ID, profiles, roles); S3_ENDPOINT sets --endpoint.`

/** `s3-presign-middleware doctor ...`; resolves to the exit code. */
export async function main(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  const [command, ...rest] = argv
  if (command !== 'doctor') {
    log(USAGE)
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2
  }
  let values
  try {
    ;({ values } = parseArgs({
      args: rest,
      options: {
        bucket: { type: 'string' },
        origin: { type: 'string' },
        fix: { type: 'boolean', default: false },
        region: { type: 'string' },
        endpoint: { type: 'string' },
        'path-style': { type: 'boolean', default: false },
      },
    }))
  } catch (error) {
    log(`${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (!values.bucket) {
    log(`--bucket is required.\n\n${USAGE}`)
    return 2
  }
  const endpoint = values.endpoint ?? process.env.S3_ENDPOINT
  const client = new S3Client({
    ...(values.region ? { region: values.region } : {}),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(values['path-style'] ? { forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  try {
    const checks = await runDoctor({ client, bucket: values.bucket, ...(values.origin ? { origin: values.origin } : {}), fix: values.fix })
    const mark = { ok: '✓', fixed: '✓', problem: '✗', unsupported: '–' }
    for (const c of checks) log(`${mark[c.status]} ${c.message}`)
    return checks.some((c) => c.status === 'problem') ? 1 : 0
  } catch (error) {
    const e = error as { name?: string; message?: string }
    log(`The bucket could not be checked: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`)
    return 1
  } finally {
    client.destroy()
  }
}
