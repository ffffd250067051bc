/** JSON over fetch with the dashboard's session cookie, and the CSRF token on every change. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SessionInfo {
  authRequired: boolean;
  signedIn: boolean;
  name?: string;
  agentId?: string;
  scopes?: Array<'read' | 'call' | 'admin'>;
  csrfToken?: string;
}

let csrf = '';
let onUnauthorized: () => void = () => {};

export function setCsrf(token: string): void {
  csrf = token;
}

export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

export async function request(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Response> {
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  return fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await request(path, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { raw: text };
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } }).error;
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, error?.code ?? 'error', error?.message ?? `HTTP ${response.status}`);
  }
  return body as T;
}

export async function text(path: string): Promise<string> {
  const response = await request(path);
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, 'error', `HTTP ${response.status}`);
  return response.text();
}
