import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/index'
import { RGW_ENDPOINT, describeRgw, rgwClient, rgwClientConfig, testBucketName } from '../helpers/rgw'

/** `s3-presign-middleware doctor` against a real bucket on Ceph RGW: diagnose, fix, diagnose again. */
describeRgw('the bucket doctor on RGW', () => {
  const bucket = testBucketName('doctor')
  const client = rgwClient()
  const run = async (...args: string[]) => {
    const lines: string[] = []
    const code = await main(['doctor', '--bucket', bucket, '--origin', 'http://app.test', '--endpoint', RGW_ENDPOINT, '--region', 'us-east-1', ...args], (l) => lines.push(l))
    return { code, out: lines.join('\n') }
  }

  beforeAll(async () => {
    const { credentials } = rgwClientConfig() as { credentials: { accessKeyId: string; secretAccessKey: string } }
    vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId)
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey)
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
  })
  afterAll(async () => {
    await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {})
    client.destroy()
    vi.unstubAllEnvs()
  })

  it('says in plain words what a bare bucket lacks, and exits 1', async () => {
    const { code, out } = await run()
    console.log(`[doctor, bare bucket]\n${out}`)
    expect(code).toBe(1)
    expect(out).toMatch(/✗ CORS: no CORS rule allows the origin http:\/\/app\.test/)
    expect(out).toMatch(/lifecycle|Lifecycle/)
  })

  it('--fix applies the recommended configuration; afterwards the checks pass (or say the store lacks the API)', async () => {
    const fixed = await run('--fix')
    console.log(`[doctor --fix]\n${fixed.out}`)
    expect(fixed.code).toBe(0)
    expect(fixed.out).toMatch(/✓ CORS: .*Added a rule for http:\/\/app\.test/)
    const again = await run()
    console.log(`[doctor after --fix]\n${again.out}`)
    expect(again.code).toBe(0)
    expect(again.out).toMatch(/✓ CORS allows http:\/\/app\.test to upload and exposes ETag and Location/)
    expect(again.out).not.toMatch(/✗/)
    // A browser preflight from that origin is now allowed, with the headers we sign.
    const res = await fetch(`${RGW_ENDPOINT}/${bucket}/k`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type,if-none-match,x-amz-meta-presign-nonce' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-expose-headers')).toMatch(/ETag/i)
  })

  it('answers usage errors with exit code 2', async () => {
    const lines: string[] = []
    expect(await main(['doctor'], (l) => lines.push(l))).toBe(2)
    expect(lines.join('\n')).toMatch(/--bucket is required/)
    expect(await main(['nonsense'], () => {})).toBe(2)
  })
})
