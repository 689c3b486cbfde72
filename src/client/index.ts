export { UploadError, uploadFile } from './upload'
export type { ResumeStorage, UploadOptions, UploadProgress } from './upload'
export type { CompleteResponse, CreateResponse, ErrorBody, MultipartCreateResponse, SingleCreateResponse } from '../wire'
