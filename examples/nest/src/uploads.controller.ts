import { All, Controller, Inject, Next, Req, Res, UseGuards } from '@nestjs/common'
import { Router } from 'express'
import type { NextFunction, Request, Response } from 'express'
import { presignMiddleware } from 's3-presign-middleware/express'
import { BearerAuthGuard } from './auth.guard'
import { FilesService } from './files.service'
import { UPLOAD_STORE, type UploadStore } from './store'

/**
 * Every upload route under /uploads, behind the app's guard.
 *
 * Why a controller and not `app.use()` or a `MiddlewareConsumer`: Nest runs middleware before
 * guards, so there `req.user` is not set yet. A controller's handler runs after the guards.
 * The Express middleware is mounted on a Router at the controller's full path (with a global
 * prefix, `/api/uploads`): the Router gives it the mount (`req.baseUrl`) its tokens are bound to
 * and the path below it, as `app.use('/uploads', ...)` does in an Express app.
 */
@Controller('uploads')
@UseGuards(BearerAuthGuard)
export class UploadsController {
  private readonly uploads: Router

  constructor(files: FilesService, @Inject(UPLOAD_STORE) store: UploadStore) {
    this.uploads = Router().use(
      '/uploads',
      presignMiddleware({
        bucket: store.bucket,
        s3: store.s3,
        secret: store.secret,
        // The guard set req.user. Downloads only from the caller's own folder.
        authorize: ({ request, key }) => {
          const user = request.user
          return user && (key === undefined || key.startsWith(`users/${user.id}/`)) ? user : false
        },
        keyPrefix: ({ identity }) => `users/${identity.id}/`,
        maxFileSize: 100 * 1024 ** 2,
        onComplete: ({ identity, key, size, contentType, file }) =>
          files.add({ key, filename: file.filename, size, contentType, owner: identity.id }),
      }),
    )
  }

  /** `*path`: Nest 11's wildcard (path-to-regexp 8) for every path below /uploads. */
  @All('*path')
  handle(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    // Not an upload route: next() reaches Nest's 404. A hook that throws: next(err) reaches Nest's exception filters.
    this.uploads(req, res, next)
  }
}
