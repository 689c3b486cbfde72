// The app the runtime examples share: the fetch handler on /uploads, its S3 store from plain
// variables (a record: process.env, Deno.env.toObject() or a worker's env bindings), and GET /health.
// No Node-only module here: Bun, Deno and workerd load it as is.
//
//   S3_BUCKET, PRESIGN_SECRET (32+ characters)                      required
//   S3_ENDPOINT (an S3-compatible store; path-style addressing)     default: AWS
//   S3_REGION (us-east-1), S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY
//   MULTIPART_THRESHOLD   bytes above which uploads go in parts (default: the package's, 100 MiB)
//   S3_TIMEOUT_MS         how long one S3 call may take (default: the package's, 5000)
import { createFetchHandler } from 's3-presign-middleware/fetch'

/**
 * @param {Record<string, string | undefined>} env
 * @returns {(request: Request) => Promise<Response>}
 */
export function createApp(env) {
  const required = (name) => {
    const value = env[name]
    if (!value) throw new Error(`[runtimes example] set ${name}`)
    return value
  }
  const uploads = createFetchHandler({
    prefix: '/uploads',
    bucket: required('S3_BUCKET'),
    secret: required('PRESIGN_SECRET'),
    region: env.S3_REGION ?? 'us-east-1',
    s3: {
      ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT, forcePathStyle: true } : {}),
      ...(env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
        ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } }
        : {}),
    },
    // A real app returns the logged-in user ({ id }) here, or false to refuse.
    authorize: () => true,
    ...(env.MULTIPART_THRESHOLD ? { multipart: { threshold: Number(env.MULTIPART_THRESHOLD) } } : {}),
    ...(env.S3_TIMEOUT_MS ? { timeout: Number(env.S3_TIMEOUT_MS) } : {}),
    onComplete: ({ key, size }) => ({ key, size }),
  })

  return async function app(request) {
    const { pathname } = new URL(request.url)
    if (pathname === '/health') return new Response('ok')
    if (pathname.startsWith('/uploads/')) return await uploads(request)
    return new Response('not found', { status: 404 })
  }
}
