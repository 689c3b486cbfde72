import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import express, { type Request } from 'express'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import { PresignError } from '../../src/index'
import { callApp } from '../helpers/app-call'
import { type TestBucket, createTestBucket, describeRgw, putRaw, rgwClientConfig } from '../helpers/rgw'
import { listen } from '../helpers/targets'

/**
 * Recipe (README "Per-user quotas", issue 13 item 5): a storage quota per user, on Ceph RGW.
 * `authorize` reserves the declared size when an upload starts and refuses one that would go over;
 * `onComplete` turns the reservation into usage (and refuses a file over the quota when no size was
 * declared, as with Uppy: the object is then removed); `onAbort` releases the reservation of an
 * upload that was aborted or refused. The maps stand for the app's database.
 */

const QUOTA = 100 // bytes per user

describeRgw('recipe: per-user quotas with authorize, onComplete and onAbort (RGW)', () => {
  let store: TestBucket
  let server: { url: string; close: () => Promise<void> }
  const at = (path: string) => `${server.url}/uploads${path}`

  // --- the recipe, as in the README ----------------------------------------------------------
  const used = new Map<string, number>() // bytes each user stores
  const reserved = new Map<string, number>() // bytes of each user's uploads in flight
  const add = (map: Map<string, number>, id: string, bytes: number) => map.set(id, (map.get(id) ?? 0) + bytes)

  function quotaMiddleware(bucket: string) {
    return presignMiddleware({
      bucket,
      s3: rgwClientConfig(),
      secret: 'quota-recipe-secret-0123456789',
      authorize: ({ request, action, file }) => {
        const user = userOf(request)
        if (!user) return false
        if (action === 'upload' && file?.size !== undefined) {
          const left = QUOTA - (used.get(user.id) ?? 0) - (reserved.get(user.id) ?? 0)
          if (file.size > left) throw new PresignError('file_too_large', `This file is over your quota: ${Math.max(left, 0)} bytes left.`)
          add(reserved, user.id, file.size)
        }
        return user
      },
      onComplete: ({ identity, size, declaredSize }) => {
        // No declared size (Uppy): nothing was reserved, so check the quota now; throwing removes the file.
        if (declaredSize === undefined && (used.get(identity.id) ?? 0) + size > QUOTA) {
          throw new PresignError('file_too_large', 'This file is over your quota.')
        }
        add(reserved, identity.id, -(declaredSize ?? 0))
        add(used, identity.id, size)
        return { used: used.get(identity.id) }
      },
      onAbort: ({ identity, declaredSize }) => {
        if (declaredSize !== undefined) add(reserved, identity.id, -declaredSize)
      },
    })
  }
  // --------------------------------------------------------------------------------------------

  function userOf(request: Request) {
    const id = request.get('x-user')
    return id ? { id } : false
  }

  beforeAll(async () => {
    store = await createTestBucket('quota')
    const app = express()
    app.use('/uploads', quotaMiddleware(store.bucket))
    server = await listen(app)
  })
  afterAll(async () => {
    await server?.close()
    await store?.cleanup()
  })

  async function upload(user: string, size: number) {
    const created = await callApp(at('/create'), { user, body: { filename: 'q.txt', contentType: 'text/plain', size } })
    if (created.status !== 200) return { created }
    expect((await putRaw(created.body.url, { headers: created.body.headers, body: 'q'.repeat(size) })).status).toBe(200)
    return { created }
  }

  it('reserves at create, counts at complete, refuses what goes over, and releases aborted uploads', async () => {
    const first = await upload('ana', 60)
    expect([reserved.get('ana'), used.get('ana') ?? 0]).toEqual([60, 0])
    const done = await callApp(at('/complete'), { user: 'ana', body: { token: first.created.body.token } })
    expect(done.body.result).toEqual({ used: 60 })
    expect([reserved.get('ana'), used.get('ana')]).toEqual([0, 60])

    const over = await upload('ana', 50)
    expect(over.created.status).toBe(413)
    expect(over.created.body.message).toBe('This file is over your quota: 40 bytes left.')
    expect(reserved.get('ana')).toBe(0)

    // An upload in flight holds its bytes: a second one that would not fit beside it is refused.
    const inFlight = await upload('ana', 30)
    expect((await upload('ana', 20)).created.status).toBe(413)
    // Aborting it gives them back.
    expect((await callApp(at('/abort'), { user: 'ana', body: { token: inFlight.created.body.token } })).status).toBe(200)
    expect(reserved.get('ana')).toBe(0)
    const last = await upload('ana', 40)
    expect((await callApp(at('/complete'), { user: 'ana', body: { token: last.created.body.token } })).body.result).toEqual({ used: 100 })

    // Another user's quota is their own.
    expect((await upload('bo', 100)).created.status).toBe(200)
  })

  it("checks the quota at completion for Uppy's uploads (no declared size) and removes a file over it", async () => {
    const start = await callApp(at('/s3/multipart'), { user: 'cy', body: { filename: 'big.txt', type: 'text/plain', metadata: {} } })
    expect(start.status).toBe(200)
    const { uploadId, key } = start.body
    add(used, 'cy', 90) // cy already stores 90 bytes
    const part = await callApp(at(`/s3/multipart/${encodeURIComponent(uploadId)}/1?key=${encodeURIComponent(key)}`), { user: 'cy' })
    const put = await putRaw(part.body.url, { body: 'x'.repeat(20) })
    expect(put.status).toBe(200)
    const complete = await callApp(at(`/s3/multipart/${encodeURIComponent(uploadId)}/complete?key=${encodeURIComponent(key)}`), {
      user: 'cy',
      body: { parts: [{ PartNumber: 1, ETag: put.headers.get('etag') }] },
    })
    expect(complete.status).toBe(413)
    expect(complete.body.message).toBe('This file is over your quota.')
    expect(used.get('cy')).toBe(90)
    const left = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: key }))
    expect(left.KeyCount).toBe(0)
  })
})
