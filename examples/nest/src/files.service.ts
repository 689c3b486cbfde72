import { Injectable } from '@nestjs/common'

export interface StoredFile {
  key: string
  filename: string
  size: number
  contentType: string
  owner: string
}

/** The app's own record of uploaded files (a database table in a real app). */
@Injectable()
export class FilesService {
  private readonly files: StoredFile[] = []

  add(file: StoredFile): StoredFile {
    this.files.push(file)
    return file
  }

  ownedBy(owner: string): StoredFile[] {
    return this.files.filter((file) => file.owner === owner)
  }
}
