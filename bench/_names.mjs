// Row names shared by the benches that measure them and targets.mjs that compares them.
export const CREATE = 'ours (create, per upload)'
export const CREATE_FLOOR = 'create floor (signature + token HMAC + AES-GCM tag + random id)'
export const PARTS = 'ours (sign-parts, per URL)'
export const CREATE_SYNC_RULE = 'ours (create), maxFileSize a sync function'
export const CREATE_ASYNC_RULE = 'ours (create), maxFileSize an async function'
export const PARTS_SYNC_RULE = 'ours (sign-parts), maxFileSize a sync function'
export const PARTS_ASYNC_RULE = 'ours (sign-parts), maxFileSize an async function'

export const IN_PROCESS = 'sign-parts in process (ms)'
export const CLIENT_BATCHES = 'sign-parts in process, 1,250 calls of 8 (the client’s batches) (ms)'
export const SIGNER_ALONE = '10,000 × the query signer alone (ms)'
