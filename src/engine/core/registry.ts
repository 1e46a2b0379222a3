import { InvalidArgumentError, WorkflowTypeNotFoundError } from '../../common/errors.ts';
import { isWorkflowDefinition, type WorkflowDefinition } from '../../definition/workflow.ts';
import { SearchAttributeCatalog } from './search-attribute-catalog.ts';

/**
 * The workflow types an engine can run, each with every version registered. New executions
 * take the version registered last; running ones stay on the version they started on.
 */
export class WorkflowRegistry {
  private readonly byType = new Map<string, Map<string, WorkflowDefinition>>();
  /** The search attributes every registered version declares (one type per name). */
  readonly searchAttributes: SearchAttributeCatalog;

  constructor(definitions: readonly WorkflowDefinition[]) {
    for (const definition of definitions) {
      if (!isWorkflowDefinition(definition)) {
        throw new InvalidArgumentError('workflows must be values returned by workflow(machine)');
      }
      const versions = this.byType.get(definition.type) ?? new Map<string, WorkflowDefinition>();
      versions.delete(definition.version); // re-registering moves it to "latest"
      versions.set(definition.version, definition);
      this.byType.set(definition.type, versions);
    }
    this.searchAttributes = new SearchAttributeCatalog(definitions);
  }

  latest(type: string): WorkflowDefinition {
    const versions = this.byType.get(type);
    if (!versions) throw new WorkflowTypeNotFoundError(type, [...this.byType.keys()]);
    return [...versions.values()].at(-1)!;
  }

  get(type: string, version: string): WorkflowDefinition | undefined {
    return this.byType.get(type)?.get(version);
  }

  types(): { type: string; versions: string[] }[] {
    return [...this.byType].map(([type, versions]) => ({ type, versions: [...versions.keys()] }));
  }
}
