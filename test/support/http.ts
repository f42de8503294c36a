import { withAuth } from './auth';

// A tiny HTTP client for end-to-end tests: JSON in, status + headers + parsed body out. Sends the
// suites' admin key unless the headers carry an Authorization of their own.
export interface HttpResponse<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly text: string;
}

export async function http<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResponse<T>> {
  // A form goes as multipart/form-data (fetch sets the boundary); anything else as JSON.
  const form = body instanceof FormData;
  const response = await fetch(baseUrl + path, {
    method,
    headers: withAuth(
      body === undefined || form ? headers : { 'content-type': 'application/json', ...headers },
    ),
    body: body === undefined ? undefined : form ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}
