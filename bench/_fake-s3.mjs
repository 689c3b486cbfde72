// A loopback stand-in that answers CreateMultipartUpload, so benches can start multipart
// uploads (to get tokens whose parts they sign) without a real store: signing never calls S3.
import { createServer } from 'node:http'

export async function startFakeS3() {
  let n = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.method === 'POST' && req.url.includes('?uploads')) {
        res.writeHead(200, { 'content-type': 'application/xml' })
        res.end(`<InitiateMultipartUploadResult><UploadId>bench-upload-${++n}</UploadId></InitiateMultipartUploadResult>`)
      } else {
        res.writeHead(404)
        res.end()
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { endpoint: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }
}

export function s3Config(endpoint) {
  return {
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIABENCHBENCHBENCH0', secretAccessKey: 'benchsecretbenchsecretbenchsecret000' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }
}
