import { PresignError, refusalFrom } from './errors'
import { type MaybePromise, isPromiseLike } from './maybe-promise'
import type { Action, FileInfo, Identity, Refusal } from './options'
import type { Core } from './presigner'
import type { UploadToken } from './token'

/** The id tokens and tags are bound to: the identity's, or null for an anonymous caller. */
export function identityIdOf(identity: Identity | true): string | null {
  return identity === true ? null : String(identity.id)
}

/**
 * Asks `authorize`: `false` is a 403; a thrown refusal keeps its 4xx status; a crash is rethrown.
 * A synchronous hook is answered synchronously (no turn of the event loop on `create`'s path).
 */
export function authorize<Req, Id extends Identity | true>(
  core: Core<Req, Id>,
  action: Action,
  request: Req,
  extra: { key?: string; file?: FileInfo },
): MaybePromise<Id> {
  let verdict: Id | Refusal | PromiseLike<Id | Refusal>
  try {
    verdict = core.config.authorize(contextOf(core.config.route, action, request, extra))
  } catch (error) {
    throw refused(error)
  }
  return isPromiseLike(verdict)
    ? Promise.resolve(verdict).then(judge<Id>, (error: unknown) => Promise.reject(refused(error)))
    : judge<Id>(verdict)
}

/** `authorize`'s context: what the action is about (its key or file) and the route, when there are some. */
function contextOf<Req>(route: string | undefined, action: Action, request: Req, extra: { key?: string; file?: FileInfo }) {
  // Assigned, not spread: every create and sign-parts asks.
  const ctx: { action: Action; request: Req; key?: string; file?: FileInfo; route?: string } = { action, request }
  if (extra.key !== undefined) ctx.key = extra.key
  if (extra.file !== undefined) ctx.file = extra.file
  if (route) ctx.route = route
  return ctx
}

// A refusal keeps its status; a crash goes on to the host's error handler.
function refused(error: unknown): unknown {
  return refusalFrom(error) ?? error
}

function judge<Id extends Identity | true>(verdict: Id | Refusal): Id {
  if (verdict === true) return verdict
  if (verdict === false || verdict === undefined || verdict === null) {
    throw new PresignError('forbidden', 'You are not allowed to do this.')
  }
  const id = typeof verdict === 'object' ? verdict.id : undefined
  // A string id is sealed into object tags as UTF-8: it must be valid Unicode, or two ids could seal alike.
  if (!((typeof id === 'string' && id.length > 0 && id.isWellFormed()) || (typeof id === 'number' && Number.isFinite(id)))) {
    throw new TypeError(
      '[s3-presign-middleware] `authorize` must return `{ id: string | number, ... }` (a non-empty, valid Unicode string or a finite number), `true` or `false`.',
    )
  }
  return verdict
}

/** Follow-up calls: the token must be intact, alive, and the caller the one who started. */
export async function resumeUpload<Req, Id extends Identity | true>(
  core: Core<Req, Id>,
  action: Action,
  sealed: unknown,
  request: Req,
  mount?: string,
) {
  const upload: UploadToken = core.tokens.open(sealed)
  // Another mount, or other rules: not this mount's upload (server code, with no mount, may finish any).
  if (upload.scope !== core.config.scope || (upload.mount !== undefined && mount !== undefined && upload.mount !== mount)) {
    throw new PresignError(
      'invalid_token',
      'This upload was started under other rules (another mount or route): finish it where it started.',
    )
  }
  const identity = await authorize(core, action, request, { key: upload.key })
  if (identityIdOf(identity) !== upload.identityId) {
    throw new PresignError('identity_mismatch', 'This upload belongs to another user.')
  }
  return { upload, identity }
}
