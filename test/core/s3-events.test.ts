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

  // Sealed by version 2 of the tag (packages before the binding moved into AES-GCM's associated
  // data): objects uploaded then, still pending, must still complete from their S3 events.
  const V2_TAGS = [
    ['BWgFmBkbyaRHQh0nOkfHTULMOd-j0I09jhLl__9mj-JxBVzGIStHPBZWuz207oJOakbJ5wa9L2C4IQ', alice],
    ['GzMI97bCFgr6ga_YPLmUjifhsJQJnH0jUiOXCaULKNH8SEDEYP3pScB5TaGmEYcJVA5mt8TWig', { identityId: 42, maxFileSize: 5 * 1024 ** 3 }],
    ['UEhRGGwa_c1Azx0eCI6k79fJ9W86av8BSTY8f-npBdsl1uMR09-ZMTwnG-8lPw7tjKKq_T8', { identityId: null, maxFileSize: 5 }],
  ] as const

  it.each(V2_TAGS)('opens the version 2 tag %s, bound as before', (tag, content) => {
    expect(tagger.open(tag, at)).toEqual(content)
    expect(tagger.open(tag, { ...at, key: 'a/copy.png' })).toBeUndefined()
    expect(tagger.open(tag, { ...at, bucket: 'other' })).toBeUndefined()
    expect(tagger.open(tag, { ...at, scope: 'scope-2' })).toBeUndefined()
    expect(createObjectTagger(['other-secret-0123456789']).open(tag, at)).toBeUndefined()
  })

  it('seals version 3: the binding is authenticated, not carried (16 bytes shorter than version 2)', () => {
    const tag = tagger.seal(at, alice)
    expect(Buffer.from(tag, 'base64url').length).toBe(Buffer.from(V2_TAGS[0][0], 'base64url').length - 16)
    // Every bit of a version 3 tag counts: flipping any one is refused.
    const raw = Buffer.from(tag, 'base64url')
    for (let bit = 0; bit < raw.length * 8; bit += 7) {
      const flipped = Buffer.from(raw)
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      expect(tagger.open(flipped.toString('base64url'), at)).toBeUndefined()
    }
  })

  it('refuses a tag sealed with another secret, accepts a rotated one', () => {
    const old = createObjectTagger(['old-secret-0123456789'])
    expect(tagger.open(old.seal(at, alice), at)).toBeUndefined()
    expect(createObjectTagger(['new-secret-0123456789', 'old-secret-0123456789']).open(old.seal(at, alice), at)).toEqual(alice)
  })
})
