/** zod at the edge of coordination: one place that turns a failed parse into a field-named error. */
import type { z } from 'zod';

import { InvalidArgumentError } from '../shared/errors.js';

/** The parsed value, or InvalidArgumentError `<field>: <what is wrong>` for the first issue. */
export function parseArgs<S extends z.ZodType>(schema: S, args: unknown): z.infer<S> {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'arguments';
  throw new InvalidArgumentError(`${field}: ${issue?.message ?? 'invalid'}`);
}
