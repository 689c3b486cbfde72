import { describe, expect, it } from 'vitest'
import { parseS3Event as createdObjects } from '../../src/core/s3-events'
import { createObjectTagger } from '../../src/core/token'
import { s3Notification, snsEnvelope, viaEventBridge, viaSns, viaSqs } from '../helpers/s3-events'

const key = 'users/42/a photo+1 é.png'

describe('S3 event shapes', () => {
  it.each([
    ['a direct notification (Lambda)', s3Notification('uploads', key)],
    ['an SNS delivery', viaSns(s3Notification('uploads', key))],
    ['an SQS delivery', viaSqs(s3Notification('uploads', key))],
    ['SNS into SQS', viaSqs(snsEnvelope(s3Notification('uploads', key)))],
    ['an SQS message body as a string', JSON.stringify(s3Notification('uploads', key))],
    ['EventBridge', viaEventBridge('uploads', key)],
    ['EventBridge through SQS', viaSqs(viaEventBridge('uploads', key))],
  ])('reads the created object from %s, decoding the key', (_name, event) => {
    expect(createdObjects(event)).toEqual([{ bucket: 'uploads', key }])
  })

  it.each([
    ['a removal', s3Notification('uploads', key, 'ObjectRemoved:Delete')],
    ['the S3 test event', { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'uploads' }],
    ['garbage', 'not json'],
    ['null', null],
    ['a malformed key', { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: '%E0%A4%A' } } }] }],
  ])('finds nothing in %s', (_name, event) => {
    expect(createdObjects(event)).toEqual([])
  })
})

describe('object tags', () => {
  const tagger = createObjectTagger(['tag-secret-0123456789'])
  const at = { scope: 'scope-1', bucket: 'b', key: 'a/photo.png' }
  const alice = { identityId: 'alice', maxFileSize: 1000 }

  it('seal is unique per upload and opens to the identity id and size limit', () => {
    const a = tagger.seal(at, alice)
    expect(a).not.toBe(tagger.seal(at, alice))
    expect(tagger.open(a, at)).toEqual(alice)
    expect(tagger.open(tagger.seal(at, { identityId: null, maxFileSize: 5 }), at)).toEqual({ identityId: null, maxFileSize: 5 })
  })

  it('does not show the identity in the tag', () => {
    expect(Buffer.from(tagger.seal(at, alice), 'base64url').toString('latin1')).not.toContain('alice')
  })

  it.each([undefined, '', 'abc', 'A'.repeat(60)])('refuses the forged tag %j', (tag) => {
    expect(tagger.open(tag, at)).toBeUndefined()
  })

  it('refuses a tag copied onto another key or bucket, or opened under other rules (SPEC §5.9)', () => {
    const tag = tagger.seal(at, alice)
    expect(tagger.open(tag, { ...at, key: 'a/copy.png' })).toBeUndefined()
    expect(tagger.open(tag, { ...at, bucket: 'other' })).toBeUndefined()
    expect(tagger.open(tag, { ...at, scope: 'scope-2' })).toBeUndefined()
  })

  it('refuses a tag sealed with another secret, accepts a rotated one', () => {
    const old = createObjectTagger(['old-secret-0123456789'])
    expect(tagger.open(old.seal(at, alice), at)).toBeUndefined()
    expect(createObjectTagger(['new-secret-0123456789', 'old-secret-0123456789']).open(old.seal(at, alice), at)).toEqual(alice)
  })
})
