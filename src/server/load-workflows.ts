import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, PerdureError } from '../common/errors.ts';
import { isWorkflowDefinition, type WorkflowDefinition } from '../definition/workflow.ts';

/**
 * Loads workflow definitions from modules: every export made with `workflow(...)` is one.
 * Paths are relative to the working directory. A TypeScript module (.ts, .mts, .cts, .tsx)
 * loads without a build step: tsx's loader is registered the first time one is imported.
 *
 * The same definition exported twice (say, by a module and by an index that re-exports it) is
 * registered once; two different definitions of one type and version are an error.
 *
 * @example
 * const workflows = await loadWorkflows(['machines/index.ts']);
 * const server = await createServer({ workflows });
 */
export async function loadWorkflows(modulePaths: readonly string[], cwd = process.cwd()): Promise<WorkflowDefinition[]> {
  if (modulePaths.length === 0) throw new InvalidArgumentError('no workflows module given: pass --workflows <module>.');
  const byKey = new Map<string, WorkflowDefinition>();
  for (const modulePath of modulePaths) {
    const exports = await importModule(modulePath, cwd, 'workflows');
    const found = Object.values(exports).filter(isWorkflowDefinition);
    if (found.length === 0) {
      throw new InvalidArgumentError(
        `the workflows module "${modulePath}" exports no workflow definitions. ` +
          'Export each machine wrapped in workflow(machine), e.g. `export const order = workflow(orderMachine)`.',
      );
    }
    for (const definition of found) {
      const key = `${definition.type}@${definition.version}`;
      const known = byKey.get(key);
      if (known && known !== definition) {
        throw new InvalidArgumentError(`two different definitions of workflow type "${definition.type}" version ${definition.version} in ${modulePaths.join(', ')}.`);
      }
      byKey.set(key, definition);
    }
  }
  return [...byKey.values()];
}

/**
 * Imports a module by a path relative to `cwd`, with a clear error when the file is missing
 * or fails to load. `what` names the module's role in messages ("workflows", "activities").
 */
export async function importModule(modulePath: string, cwd: string, what: string): Promise<Record<string, unknown>> {
  const absolute = resolve(cwd, modulePath);
  try {
    await access(absolute);
  } catch {
    throw new InvalidArgumentError(`the ${what} module "${modulePath}" does not exist (looked for ${absolute}).`);
  }
  try {
    if (TYPESCRIPT.test(absolute)) await typeScriptLoader();
    return (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    // A machine that workflow() refused keeps its own code (INVALID_DEFINITION) and message.
    if (error instanceof PerdureError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidArgumentError(`the ${what} module "${modulePath}" failed to load: ${reason}`);
  }
}

const TYPESCRIPT = /\.(?:ts|mts|cts|tsx)$/;
let registered: Promise<void> | undefined;

/**
 * Registers tsx's ESM loader in this process, once. Not when this very file is TypeScript: then
 * a loader already runs the process (the sources under tsx or vitest), and a second one would
 * compile every module twice. Node 20 has no type stripping of its own, and tsx handles what
 * stripping would not (enums, paths with .ts or .js), so it is used on every Node version.
 */
function typeScriptLoader(): Promise<void> {
  if (import.meta.url.endsWith('.ts')) return Promise.resolve();
  registered ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return registered;
}
