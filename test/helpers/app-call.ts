/** What a test app answered: the status, the body (parsed when JSON), the headers. */
export interface Answer {
  status: number
  body: any
  headers: Headers
}

/**
 * One call to a test app as the user `user` (the `x-user` header is the test apps' login). A body is
 * sent as JSON; redirects are not followed.
 */
export async function callApp(
  url: string,
  init: { method?: string; user?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers }
  if (init.user) headers['x-user'] = init.user
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    redirect: 'manual',
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: kept as text for the failure message
  }
  return { status: res.status, body, headers: res.headers }
}
