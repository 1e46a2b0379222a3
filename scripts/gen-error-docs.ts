/**
 * Writes docs/error-codes.md from the code catalog in src/common/error-codes.ts, so the
 * documented codes are exactly the ones the code can emit. test/unit/common/error-codes.test.ts
 * fails when the file and the catalog disagree; rerun this script after changing the catalog.
 *
 * @example
 * npx tsx scripts/gen-error-docs.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, FAILURE_CODES } from '../src/common/error-codes.ts';

type Catalog = Record<string, { meaning: string; fix: string }>;

/** A table cell: a `|` would end the cell and a newline the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function table(catalog: Catalog): string[] {
  return [
    '| Code | Meaning | How to fix |',
    '| --- | --- | --- |',
    ...Object.entries(catalog).map(([code, { meaning, fix }]) => `| \`${code}\` | ${cell(meaning)} | ${cell(fix)} |`),
  ];
}

/** The whole of docs/error-codes.md. */
export function renderErrorDocs(): string {
  return [
    '# Error and failure codes',
    '',
    '<!-- Generated from src/common/error-codes.ts by `npx tsx scripts/gen-error-docs.ts`. Do not edit by hand. -->',
    '',
    'Every code is stable: once published it is never reused for another meaning. Match on `code`,',
    'never on the message.',
    '',
    '## Errors',
    '',
    'Thrown by the engine, the store, the server and the SDKs, as subclasses of `PerdureError`.',
    'The message names what happened, the ids involved, and the fix.',
    '',
    ...table(ERROR_CODES),
    '',
    '## Failures',
    '',
    'Cross the wire and are what workflows and clients catch: in a machine as the `error` of an',
    '`xstate.error.actor.<id>` event, in a client as the rejection of `result()`. Their `cause`',
    'chain survives the round trip.',
    '',
    ...table(FAILURE_CODES),
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = fileURLToPath(new URL('../docs/error-codes.md', import.meta.url));
  writeFileSync(target, renderErrorDocs());
  console.log(`wrote ${target} (${Object.keys(ERROR_CODES).length} error codes, ${Object.keys(FAILURE_CODES).length} failure codes)`);
}
