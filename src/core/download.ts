import type { DownloadResponse } from '../wire'
import { authorize } from './auth'
import { asObject } from './input'
import { PresignError } from './errors'
import { assertValidKey, isScriptCapable } from './keys'
import type { Core } from './presigner'
import { expiresAt } from './start'

/** `POST /download` (and `GET /download?key=`): a presigned GET once `authorize` allows the key and the object exists. */
export async function download<Req>(core: Core<Req>, body: unknown, request: Req): Promise<DownloadResponse> {
  const { expiresIn } = core.config
  const key = asObject(body).key
  assertValidKey(key)
  await authorize(core, 'download', request, { key })
  // A type a browser can run (HTML, SVG, XML, JavaScript) is served as an attachment: opened
  // from the bucket's origin inline it would be stored XSS (SPEC §5.13). So is an object of no type.
  const object = await core.storage.head(key)
  if (!object) throw new PresignError('not_found', 'There is no file at this key.')
  const inline = object.contentType !== undefined && !isScriptCapable(object.contentType)
  const url = await core.signer.getObject({ key, ...(inline ? {} : { disposition: 'attachment' }) }, expiresIn)
  return { url, expiresAt: expiresAt(expiresIn) }
}
