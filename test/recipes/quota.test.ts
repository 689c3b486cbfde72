import { randomUUID } from 'node:crypto'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import express, { type Request } from 'express'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { presignMiddleware } from '../../src/adapters/express'
import { PresignError, sanitizeFilename } from '../../src/index'
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
  // By key, so that every hook is idempotent: a retried complete, or an aborted upload whose URL
  // is used again, is never counted twice.
  const DAY = 86_400_000 // tokenExpiresIn, in ms
  const files = new Map<string, { owner: string; size: number }>() // stored files (your database)
  const inFlight = new Map<string, { owner: string; size: number; until: number }>() // uploads started, not finished
  const usage = (owner: string) =>
    [...files.values(), ...[...inFlight.values()].filter((f) => f.until > Date.now())].reduce(
      (sum, f) => (f.owner === owner ? sum + f.size : sum),
      0,
    )

  function quotaMiddleware(bucket: string) {
    return presignMiddleware({
      bucket,
      s3: rgwClientConfig(),
      secret: 'quota-recipe-secret-0123456789',
      pendingTag: true, // what nobody completed expires (doctor --expire-pending)
      authorize: ({ request, action, file }) => {
        const user = userOf(request)
        if (!user) return false
        if (action === 'upload' && file?.size !== undefined && usage(user.id) + file.size > QUOTA) {
          throw new PresignError('file_too_large', `This file is over your quota: ${Math.max(QUOTA - usage(user.id), 0)} bytes left.`)
        }
        return user
      },
      keyFor: ({ identity, file }) => {
        const key = `${identity.id}/${randomUUID()}/${sanitizeFilename(file.filename)}`
        if (file.size !== undefined) inFlight.set(key, { owner: identity.id, size: file.size, until: Date.now() + DAY })
        return key
      },
      onComplete: ({ key, identity, size }) => {
        inFlight.delete(key)
        // Checked again here: Uppy declares no size, and an aborted upload may still be completed.
        if (!files.has(key) && usage(identity.id) + size > QUOTA) throw new PresignError('file_too_large', 'This file is over your quota.')
        files.set(key, { owner: identity.id, size })
        return { used: usage(identity.id) }
      },
      onAbort: ({ key }) => {
        inFlight.delete(key)
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

  it('counts uploads in flight and stored files, refuses what goes over, and releases aborted uploads', async () => {
    const first = await upload('ana', 60)
    expect(usage('ana')).toBe(60) // in flight
    const done = await callApp(at('/complete'), { user: 'ana', body: { token: first.created.body.token } })
    expect(done.body.result).toEqual({ used: 60 })
    // A retried complete counts nothing twice.
    expect((await callApp(at('/complete'), { user: 'ana', body: { token: first.created.body.token } })).body.result).toEqual({ used: 60 })

    const over = await upload('ana', 50)
    expect(over.created.status).toBe(413)
    expect(over.created.body.message).toBe('This file is over your quota: 40 bytes left.')

    // An upload in flight holds its bytes: a second one that would not fit beside it is refused.
    const inFlightUpload = await upload('ana', 30)
    expect((await upload('ana', 20)).created.status).toBe(413)
    // Aborting it gives them back. What its PUT stored stays, tagged pending (the lifecycle rule
    // expires it): its URL cannot put other bytes there.
    const token = inFlightUpload.created.body.token
    expect((await callApp(at('/abort'), { user: 'ana', body: { token } })).status).toBe(200)
    expect(usage('ana')).toBe(60)
    const { url, headers } = inFlightUpload.created.body
    expect((await putRaw(url, { headers, body: 'q'.repeat(30) })).status).toBe(412)

    // Filling the quota, then completing the aborted upload after all: it is checked as a new
    // file, refused (413) and removed; its URL used again is refused the same way.
    const fill = await upload('ana', 40)
    expect((await callApp(at('/complete'), { user: 'ana', body: { token: fill.created.body.token } })).body.result).toEqual({ used: 100 })
    const late = await callApp(at('/complete'), { user: 'ana', body: { token } })
    expect([late.status, late.body.message]).toEqual([413, 'This file is over your quota.'])
    expect(
      (await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: inFlightUpload.created.body.key }))).KeyCount,
    ).toBe(0)
    expect((await putRaw(url, { headers, body: 'q'.repeat(30) })).status).toBe(200)
    const replay = await callApp(at('/complete'), { user: 'ana', body: { token } })
    expect([replay.status, replay.body.message]).toEqual([413, 'This file is over your quota.'])
    expect(usage('ana')).toBe(100)

    // Another user's quota is their own.
    expect((await upload('bo', 100)).created.status).toBe(200)
  })

  it("checks the quota at completion for Uppy's uploads (no declared size) and removes a file over it", async () => {
    const start = await callApp(at('/s3/multipart'), { user: 'cy', body: { filename: 'big.txt', type: 'text/plain', metadata: {} } })
    expect(start.status).toBe(200)
    const { uploadId, key } = start.body
    files.set('cy/earlier', { owner: 'cy', size: 90 }) // cy already stores 90 bytes
    const part = await callApp(at(`/s3/multipart/${encodeURIComponent(uploadId)}/1?key=${encodeURIComponent(key)}`), { user: 'cy' })
    const put = await putRaw(part.body.url, { body: 'x'.repeat(20) })
    expect(put.status).toBe(200)
    const complete = await callApp(at(`/s3/multipart/${encodeURIComponent(uploadId)}/complete?key=${encodeURIComponent(key)}`), {
      user: 'cy',
      body: { parts: [{ PartNumber: 1, ETag: put.headers.get('etag') }] },
    })
    expect(complete.status).toBe(413)
    expect(complete.body.message).toBe('This file is over your quota.')
    expect(usage('cy')).toBe(90)
    const left = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: key }))
    expect(left.KeyCount).toBe(0)
  })
})
