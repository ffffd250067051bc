/**
 * Query parameter names that carry a credential: refused by the HTTP face (keys belong in
 * headers, where logs do not keep them) and by `connect` before it ever sends such a URL.
 */
export const CREDENTIAL_PARAMS: ReadonlySet<string> = new Set([
  'key',
  'apikey',
  'xapikey',
  'accesskey',
  'token',
  'accesstoken',
  'authtoken',
  'idtoken',
  'refreshtoken',
  'sessiontoken',
  'bearer',
  'jwt',
  'auth',
  'authorization',
  'password',
  'passwd',
  'secret',
  'clientsecret',
]);

/** A query parameter name that carries a credential (any case; `-` and `_` ignored). */
export function isCredentialParam(name: string): boolean {
  return CREDENTIAL_PARAMS.has(name.toLowerCase().replace(/[-_]/g, ''));
}
