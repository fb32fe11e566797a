/**
 * `parley schema [payload|status-event|inbound-event]`: prints the JSON Schema (draft 2020-12) of
 * the outbound payload or of an event, built from the same definition the parser reads
 * (domain/json-schema.ts), for apps to validate against or generate types from.
 */
import { SCHEMAS, type SchemaName } from '../domain/json-schema.ts';
import { EXIT, out, type CliCommand } from './common.ts';

interface SchemaArgs {
  readonly name: SchemaName;
}

export const schemaCommand: CliCommand<SchemaArgs> = {
  command: 'schema [name]',
  describe: 'print the JSON Schema of the outbound payload (default) or of an event',
  builder: (y) =>
    y.positional('name', {
      describe: 'which schema',
      choices: Object.keys(SCHEMAS) as readonly SchemaName[],
      default: 'payload' as const,
    }),
  run: async (args) => {
    out(JSON.stringify(SCHEMAS[args.name], null, 2));
    return EXIT.ok;
  },
};
