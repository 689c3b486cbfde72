import fc from 'fast-check'
import { type ObjectSettings, contentDisposition, objectHeaders } from '../../src/core/object-settings'

/**
 * Random object settings (SPEC §3 `object`) as the headers an upload is signed with, or none:
 * for the differential tests of the signers against the SDK.
 */
const headerText = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,30}[\x21-\x7e]$/)
const tagText = fc.stringMatching(/^[A-Za-z0-9 +\-=._:/@]{1,20}$/).filter((t) => !t.startsWith('aws:') && t !== 'presign-pending')

const settings: fc.Arbitrary<ObjectSettings> = fc.oneof(
  fc.record(
    {
      serverSideEncryption: fc.constant('aws:kms' as const),
      kmsKeyId: fc.constantFrom(
        'testkey-1',
        'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        'alias/uploads',
      ),
      bucketKeyEnabled: fc.boolean(),
    },
    { requiredKeys: ['serverSideEncryption'] },
  ),
  fc.record(
    {
      serverSideEncryption: fc.constant('AES256' as const),
      storageClass: fc.constantFrom('STANDARD', 'STANDARD_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR'),
      cacheControl: fc.oneof(fc.constantFrom('no-cache', 'public, max-age=31536000, immutable', 'private,  max-age=60 '), headerText),
      contentDisposition: fc.oneof(
        fc.constantFrom('attachment', 'inline', contentDisposition('attachment', 'Résumé "final" 日本.pdf')),
        headerText,
      ),
      tags: fc.dictionary(tagText, fc.oneof(tagText, fc.constant('')), { maxKeys: 4 }),
    },
    { requiredKeys: [] },
  ),
)

const file = { filename: 'a.png', contentType: 'image/png', size: 1, metadata: {} }

export const objectSettingsHeaders: fc.Arbitrary<Record<string, string> | undefined> = fc.option(
  fc.tuple(settings, fc.boolean()).map(([s, pending]) => objectHeaders(s, file, pending)),
  { nil: undefined },
)
