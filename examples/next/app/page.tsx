import { Uploader } from './uploader'

export default function Page() {
  return (
    <main>
      <h1>Direct-to-S3 upload</h1>
      <Uploader />
    </main>
  )
}
