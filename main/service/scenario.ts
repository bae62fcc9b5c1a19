// Reading a scenario (`.kpl`) file from untrusted text. The pipeline, each step refusing the
// whole file with an error that says where (a JSON pointer) and why:
//   size cap -> JSON.parse (nothing evaluated) -> structural guards (forbidden keys, depth,
//   container count) -> format and version (newer: refused; older: migrated step by step) ->
//   the JSON Schema (shared/schema/kpl.schema.json) -> the semantic check (lab-validate.ts:
//   names, references, caps) -> the companions (layout, console history, traces).
// Only LabFormatError ever comes out of parseScenarioText (the fuzz test holds it to that).

import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { LabFormatError, validateLab } from '../../shared/lab-validate.ts';
import { checkCompanions, checkHeader, COMPANION_KEYS, migrateScenario, scanJson, SCENARIO_LIMITS, type Scenario } from '../../shared/scenario.ts';

export const SCHEMA_URL = new URL('../../shared/schema/kpl.schema.json', import.meta.url);

let validator: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object;
    // allErrors off: the first error is the one reported; strict on: the schema itself is checked;
    // discriminator: a tagged union (a step's action) is checked against the variant its kind names.
    const ajv = new Ajv2020({ allErrors: false, strict: true, discriminator: true });
    validator = ajv.compile(schema);
  }
  return validator;
}

function describe(e: ErrorObject): { pointer: string; why: string } {
  const pointer = e.instancePath;
  switch (e.keyword) {
    case 'additionalProperties':
      return { pointer, why: `unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"` };
    case 'required':
      return { pointer, why: `missing field "${String((e.params as { missingProperty: string }).missingProperty)}"` };
    case 'const':
      return { pointer, why: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}` };
    case 'enum':
      return { pointer, why: `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { pointer, why: e.message ?? e.keyword };
  }
}

/** Parses and checks a scenario file's text; throws LabFormatError only. */
export function parseScenarioText(text: string, source = 'lab'): Scenario {
  try {
    return parseInner(text, source);
  } catch (e) {
    if (e instanceof LabFormatError) throw e;
    // Anything else is a bug of ours on hostile input; still refuse the file, never crash.
    throw new LabFormatError(`${source}: cannot read the file (${(e as Error).message ?? String(e)})`, '');
  }
}

function parseInner(text: string, source: string): Scenario {
  if (typeof text !== 'string') throw new LabFormatError(`${source}: expected text`, '');
  if (Buffer.byteLength(text, 'utf8') > SCENARIO_LIMITS.fileBytes) throw new LabFormatError(`${source}: file larger than ${SCENARIO_LIMITS.fileBytes} bytes`, '');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new LabFormatError(`${source}: not a lab file (invalid JSON: ${(e as Error).message})`, '');
  }
  scanJson(raw, source);
  const version = checkHeader(raw, source);
  const obj = migrateScenario(raw as Record<string, unknown>, version);
  const validate = schemaValidator();
  if (!validate(obj)) {
    const { pointer, why } = describe(validate.errors![0]);
    throw new LabFormatError(`${source}: at ${pointer || '/'}: ${why}`, pointer);
  }
  const docPart: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) if (!(COMPANION_KEYS as readonly string[]).includes(k)) docPart[k] = obj[k];
  const doc = validateLab(docPart, source);
  return { doc, ...checkCompanions(obj, doc, source) };
}
