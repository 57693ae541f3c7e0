import { HaCommand, toJson } from '@ha/lib';
import { JsonSchema, fullSchema, loadProviders } from '@ha/lib/state';

export default class StateSchema extends HaCommand<JsonSchema> {
  static override summary = 'Print the JSON Schema of the state file.';
  static override description = `Prints the JSON Schema (draft 2020-12) that the state file must satisfy: the core part and the section of every installed plugin. Point your editor at it for completion and validation; the repository ships the same document as schema/state.schema.json.`;

  static override examples = [
    { description: 'Write the schema next to a state file.', command: '<%= config.bin %> state schema > state.schema.json' },
  ];

  protected async exec(): Promise<JsonSchema> {
    await this.parse(StateSchema);
    return stateSchemaDocument(fullSchema(await loadProviders(this.config)));
  }

  protected override render(schema: JsonSchema): string {
    return toJson(schema);
  }
}

export function stateSchemaDocument(schema: JsonSchema): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://ha.invalid/state.schema.json',
    title: 'ha state file',
    ...schema,
  };
}
