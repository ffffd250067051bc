/**
 * A JSON Schema validator provider for the SDK's Client and Server that creates Ajv, and compiles
 * a schema, only when a validator is first run.
 *
 * The SDK Client builds an Ajv instance (with ajv-formats) per client, and compiles a validator
 * for every listed tool's `outputSchema` on every tools/list, for its own `callTool`. The
 * coordinator never calls `callTool` (results pass through to the upstream client untouched), so
 * with this provider the downstream clients never build Ajv at all. The upstream Server uses its
 * validator for `elicitInput` only, so it builds Ajv only when an elicitation is checked.
 */
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';

export class OnDemandSchemaValidator implements jsonSchemaValidator {
  private ajv: jsonSchemaValidator | undefined;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    let compiled: JsonSchemaValidator<T> | undefined;
    return (input) => {
      compiled ??= (this.ajv ??= new AjvJsonSchemaValidator()).getValidator<T>(schema);
      return compiled(input);
    };
  }
}
