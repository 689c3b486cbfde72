import { Controller, Get, Req, UseGuards } from '@nestjs/common'
import type { Request } from 'express'
import { BearerAuthGuard } from './auth.guard'
import { FilesService, type StoredFile } from './files.service'

/** `GET /files`: the caller's uploads, as `onComplete` recorded them. */
@Controller('files')
@UseGuards(BearerAuthGuard)
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Get()
  list(@Req() req: Request): StoredFile[] {
    return this.files.ownedBy(req.user!.id)
  }
}
