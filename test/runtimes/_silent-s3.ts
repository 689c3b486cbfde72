import { createServer, type Server, type Socket } from 'node:net'

/**
 * An S3 endpoint that accepts connections and never answers: a call through the runtime's HTTP
 * handler must end at the app's `timeout` (504 storage_timeout), not hang.
 */
export async function silentS3(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
