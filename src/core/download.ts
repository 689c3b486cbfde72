import type { DownloadResponse } from '../wire'
import { authorize, identityIdOf } from './auth'
import { rulesFor } from './config'
import { PresignError } from './errors'
import { asObject } from './input'
import { assertValidKey, isContentType, isScriptCapable } from './keys'
import type { Core } from './presigner'
import { OBJECT_TAG_METADATA } from './token'
import { expiresAt } from './start'

/** Downloads and deletes: an existing object, named by its key, once `authorize` allows it. */

/** The rules for an action on an existing key: `bucket`, `keyPrefix` and `expiresIn` (no file). */
function rulesAt<Req>(core: Core<Req>, request: Req, identity: Parameters<typeof rulesFor>[1]['identity']) {
  return rulesFor(core.config, { request, identity, file: undefined, route: core.config.route })
}

/** `POST /download` (and `GET /download?key=`): a presigned GET once `authorize` allows the key and the object exists. */
export async function download<Req>(core: Core<Req>, body: unknown, request: Req): Promise<DownloadResponse> {
  const key = asObject(body).key
  assertValidKey(key)
  const identity = await authorize(core, 'download', request, { key })
  const { bucket, expiresIn } = await rulesAt(core, request, identity)
  const { storage, signer } = core.at(bucket)
  // A type a browser can run (HTML, SVG, XML, JavaScript) is served as an attachment: opened
  // from the bucket's origin inline it would be stored XSS (SPEC §5.13). So is an object of no
  // type, or of a type we cannot read as one media type (`*/*`, `text/plain, text/html`, written
  // by another tool): browsers read such values their own way, or sniff the bytes.
  const object = await storage.head(key)
  if (!object) throw new PresignError('not_found', 'There is no file at this key.')
  const stored = object.contentType
  const inline = stored !== undefined && isContentType(stored) && !isScriptCapable(stored)
  const url = await signer.getObject({ key, ...(inline ? {} : { disposition: 'attachment' }) }, expiresIn)
  return { url, expiresAt: expiresAt(expiresIn) }
}

/**
 * `POST /delete`: removes the object once `authorize` allows `delete` for that key, within the
 * route's key space, and only an object this caller uploaded through this route (its sealed tag
 * names them): an `authorize` that ignores `ctx.action` must not let one user delete another's
 * files, or objects that never came through the package. Server code deletes anything in the key
 * space with `presigner.delete(key)`. An object already gone is deleted: `{}`.
 */
export async function deleteObject<Req>(core: Core<Req>, body: unknown, request: Req): Promise<Record<string, never>> {
  const key = asObject(body).key
  assertValidKey(key)
  const identity = await authorize(core, 'delete', request, { key })
  if (identity === true) throw new PresignError('forbidden', 'Log in to delete files.')
  const rules = await rulesAt(core, request, identity)
  refuseOutside(key, rules)
  const object = await core.at(rules.bucket).storage.head(key)
  if (!object) return {}
  const tag = core.tags.open(object.metadata[OBJECT_TAG_METADATA], { scope: core.config.scope, bucket: rules.bucket, key })
  if (!tag || tag.identityId === null || String(tag.identityId) !== identityIdOf(identity)) {
    throw new PresignError('forbidden', 'You can delete only files you uploaded here.')
  }
  await removeIn(core, key, rules)
  return {}
}

/** `presigner.delete(key)`: server code decides, so no `authorize`; the key space still holds. */
export async function removeObject<Req>(core: Core<Req>, key: string, request: Req): Promise<void> {
  assertValidKey(key)
  await removeIn(core, key, await rulesAt(core, request, true))
}

/** A key outside the route's key space is refused (403) before anything is asked of S3. */
function refuseOutside(key: string, rules: { keyPrefix: string }) {
  if (!key.startsWith(rules.keyPrefix)) {
    throw new PresignError('forbidden', 'This key is outside the files this route manages.')
  }
}

async function removeIn(core: Core, key: string, rules: { bucket: string; keyPrefix: string }) {
  refuseOutside(key, rules)
  await core.at(rules.bucket).storage.delete(key)
}
