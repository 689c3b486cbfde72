import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { createPresigner } from '../../src/core/presigner'
import { createTestBucket, describeRgw, putRaw, rgwClientConfig } from '../helpers/rgw'
import { s3Notification, snsEnvelope, viaEventBridge, viaSns, viaSqs } from '../helpers/s3-events'

/**
 * Completion for clients that vanish after uploading (handleS3Event), with objects really
 * uploaded to RGW and the event envelopes AWS documents.
 */
describeRgw('handleS3Event against RGW', () => {
  let t: Awaited<ReturnType<typeof createTestBucket>>
  const onComplete = vi.fn((ctx: { key: string }) => ({ handled: ctx.key }))
  let presigner: ReturnType<typeof createPresigner<string>>

  beforeAll(async () => {
    t = await createTestBucket('events')
    presigner = createPresigner<string>({
      bucket: t.bucket,
      s3: rgwClientConfig(),
      secret: 'events-secret-0123456789',
      authorize: ({ request }) => ({ id: request }),
      onComplete,
      maxFileSize: 1000,
    })
  })
  afterAll(() => t?.cleanup())

  async function uploadedWithoutComplete(filename: string, user: string) {
    const created = await presigner.create({ filename, contentType: 'text/plain', size: 5 }, user)
    if (created.strategy !== 'single') throw new Error('expected single')
    expect((await putRaw(created.url, { headers: created.headers, body: 'hello' })).status).toBe(200)
    return created.key
  }

  it.each([
    ['a direct notification', (b: string, k: string) => s3Notification(b, k)],
    ['SNS', (b: string, k: string) => viaSns(s3Notification(b, k))],
    ['SQS', (b: string, k: string) => viaSqs(s3Notification(b, k))],
    ['SNS into SQS', (b: string, k: string) => viaSqs(snsEnvelope(s3Notification(b, k)))],
    ['EventBridge', (b: string, k: string) => viaEventBridge(b, k)],
  ])('completes an upload whose client vanished, from %s, with the uploader identity', async (_name, envelope) => {
    onComplete.mockClear()
    const key = await uploadedWithoutComplete('gone away+1.txt', 'carol')
    const outcomes = await presigner.handleS3Event(envelope(t.bucket, key))
    expect(outcomes).toEqual([{ key, status: 'completed', result: { handled: key } }])
    expect(onComplete).toHaveBeenCalledWith(
      expect.objectContaining({ key, size: 5, contentType: 'text/plain', identity: { id: 'carol' }, source: 'event', request: undefined }),
    )
  })

  it('gives onComplete the original UTF-8 file name, from complete and from an event alike', async () => {
    onComplete.mockClear()
    const created = await presigner.create({ filename: 'résumé 2026 ✓.txt', contentType: 'text/plain', size: 5 }, 'erin')
    if (created.strategy !== 'single') throw new Error('expected single')
    expect((await putRaw(created.url, { headers: created.headers, body: 'hello' })).status).toBe(200)
    await presigner.complete({ token: created.token }, 'erin')
    await presigner.handleS3Event(s3Notification(t.bucket, created.key))
    const files = onComplete.mock.calls.map(([ctx]) => ctx as unknown as { file: { filename: string }; source: string })
    expect(files.map((ctx) => [ctx.source, ctx.file.filename])).toEqual([
      ['complete', 'résumé 2026 ✓.txt'],
      ['event', 'résumé 2026 ✓.txt'],
    ])
    // The name is ours, not the user's metadata.
    expect(onComplete).toHaveBeenCalledWith(expect.objectContaining({ metadata: {} }))
  })

  it('the SQS Lambda example completes an upload from an SQS delivery', async () => {
    onComplete.mockClear()
    const key = await uploadedWithoutComplete('from-lambda.txt', 'dave')
    // @ts-expect-error: a plain JavaScript example, imported as users would run it
    const { createHandler } = await import('../../examples/s3-events/handler.mjs')
    // The same rules as the mount that issued the upload: tags open only under them (SPEC §5.9).
    const handler = createHandler({
      bucket: t.bucket,
      s3: rgwClientConfig(),
      secret: 'events-secret-0123456789',
      onComplete,
      maxFileSize: 1000,
    })
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    expect(await handler(viaSqs(s3Notification(t.bucket, key)))).toEqual([{ key, status: 'completed', result: { handled: key } }])
    log.mockRestore()
    expect(onComplete).toHaveBeenCalledWith(expect.objectContaining({ key, identity: { id: 'dave' }, source: 'event' }))
  })

  it('ignores objects that were not uploaded through the package, and other buckets', async () => {
    onComplete.mockClear()
    await t.client.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: 'direct.txt',
        Body: 'x',
        ContentType: 'text/plain',
        Metadata: { 'presign-nonce': 'forged' },
      }),
    )
    const outcomes = await presigner.handleS3Event({
      Records: [...s3Notification(t.bucket, 'direct.txt').Records, ...s3Notification('another-bucket', 'a.txt').Records],
    })
    expect(outcomes).toEqual([{ key: 'direct.txt', status: 'ignored', reason: expect.stringMatching(/not uploaded through/) }])
    expect(onComplete).not.toHaveBeenCalled()
  })

  it('removes an object of ours that breaks the rules (over maxFileSize), without running the hook', async () => {
    onComplete.mockClear()
    const key = await uploadedWithoutComplete('ok.txt', 'carol')
    // What a store that enforces nothing (or an x-amz-copy-source smuggled into the PUT on RGW)
    // leaves behind: our tag for this key on an object larger than the rules allow.
    const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }))
    await t.client.send(
      new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: 'x'.repeat(2000), ContentType: 'text/plain', Metadata: head.Metadata }),
    )
    expect(await presigner.handleS3Event(s3Notification(t.bucket, key))).toEqual([
      { key, status: 'rejected', reason: expect.stringMatching(/maxFileSize/) },
    ])
    expect(onComplete).not.toHaveBeenCalled()
    expect(await presigner.handleS3Event(s3Notification(t.bucket, key))).toEqual([
      { key, status: 'ignored', reason: expect.stringMatching(/no longer exists/) },
    ])
  })
})
