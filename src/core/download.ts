import type { DownloadResponse } from '../wire'
import { authorize } from './auth'
import { asObject } from './input'
import { assertValidKey } from './keys'
import type { Core } from './presigner'
import { expiresAt } from './start'

/** `POST /download` (and `GET /download?key=`): a presigned GET once `authorize` allows the key. */
export async function download<Req>(core: Core<Req>, body: unknown, request: Req): Promise<DownloadResponse> {
  const { expiresIn } = core.config
  const key = asObject(body).key
  assertValidKey(key)
  await authorize(core, 'download', request, { key })
  const url = await core.signer.getObject(key, expiresIn)
  return { url, expiresAt: expiresAt(expiresIn) }
}
