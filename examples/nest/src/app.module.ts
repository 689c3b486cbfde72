import { Module } from '@nestjs/common'
import { FilesController } from './files.controller'
import { FilesService } from './files.service'
import { UPLOAD_STORE, storeFromEnv } from './store'
import { UploadsController } from './uploads.controller'

@Module({
  controllers: [UploadsController, FilesController],
  providers: [FilesService, { provide: UPLOAD_STORE, useFactory: () => storeFromEnv() }],
})
export class AppModule {}
