import type { DownloadResponse } from '../wire'
import { asObject } from './_input'
import { type Context, authorize, expiresAt } from './context'
import { assertValidKey } from './keys'

/** `POST /download` (and `GET /download?key=`): a presigned GET once `authorize` allows the key. */
export async function download<Req>(ctx: Context<Req>, body: unknown, request: Req): Promise<DownloadResponse> {
  const key = asObject(body).key
  assertValidKey(key)
  await authorize(ctx, 'download', request, { key })
  const url = await ctx.signer.getObject(key, ctx.o.expiresIn)
  return { url, expiresAt: expiresAt(ctx.o.expiresIn) }
}
