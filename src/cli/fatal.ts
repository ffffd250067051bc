/**
 * The message for an error that escaped every command. A dependency missing from an install (a
 * bare module specifier that cannot be found) says so, and what to do, instead of a module stack.
 */
export function describeFatal(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const missing = /Cannot find (?:package|module) '([^'./][^']*)'/.exec(error.message);
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && missing) {
    return (
      `its dependency ${missing[1]} is missing: the install is incomplete. Install it again ` +
      '(see "Install" in the README); in a clone, run npm ci there.'
    );
  }
  return error.stack ?? error.message;
}
