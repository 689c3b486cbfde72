// The demo page's two GET endpoints, beside the upload routes. Demo only: a real app knows its
// own forms and lists its own records.
import { ListObjectsV2Command } from '@aws-sdk/client-s3'

/**
 * `GET /api/upload-routes`: one entry per upload route, for the page to draw an upload area each.
 * The limits are read from the `routes` object the middleware enforces, so they are written once.
 * @param {Record<string, { allowedContentTypes?: string[], maxFileSize?: number, keyPrefix?: string }>} routes
 * @param {string} mount where the middleware is mounted, e.g. `/uploads`
 */
export function describeRoutes(routes, mount) {
  return Object.entries(routes).map(([name, { allowedContentTypes, maxFileSize, keyPrefix = '' }]) => ({
    name,
    endpoint: `${mount}/${name}`,
    allowedContentTypes,
    maxFileSize,
    files: `/api/files?prefix=${encodeURIComponent(keyPrefix)}`,
  }))
}

/** `GET /api/files?prefix=`: what is in the bucket under `prefix`, newest first. */
export async function listFiles(client, bucket, prefix) {
  const { Contents = [] } = await client.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: typeof prefix === 'string' ? prefix : '', MaxKeys: 1000 }),
  )
  return Contents.map(({ Key, Size, LastModified }) => ({ key: Key, size: Size, lastModified: LastModified })).sort(
    (a, b) => new Date(b.lastModified) - new Date(a.lastModified),
  )
}
