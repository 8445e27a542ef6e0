import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import policySchema from '../config/policy.schema.json';
import { pointerToPath } from './source-map';

/** The published JSON schema of the policy file (config/policy.schema.json). */
export const POLICY_SCHEMA: object = policySchema;

export interface SchemaProblem {
  path: Array<string | number>;
  message: string;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a map (key: value)',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
};

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    // `errorMessage` is the schema's own annotation: the one message to show for a sub-schema.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
    ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
    compiled = ajv.compile(policySchema);
  }
  return compiled;
}

/** Validates a document against the schema; problems come back with key paths and readable messages. */
export function schemaProblems(data: unknown): SchemaProblem[] {
  const validate = validator();
  if (validate(data)) return [];
  return describe(validate.errors ?? []);
}

function describe(errors: ErrorObject[]): SchemaProblem[] {
  // A sub-schema with an `errorMessage` speaks for every error found inside it at that place.
  const owned = errors
    .filter((error) => typeof (error.parentSchema as { errorMessage?: unknown })?.errorMessage === 'string')
    .map((error) => ({
      pointer: error.instancePath,
      message: (error.parentSchema as { errorMessage: string }).errorMessage,
    }));
  // The outermost owner wins; at one place, the last reported (ajv reports an anyOf after its branches).
  const ownerOf = (pointer: string) =>
    owned
      .filter((owner) => pointer === owner.pointer || pointer.startsWith(`${owner.pointer}/`))
      .reduce<(typeof owned)[number] | undefined>(
        (best, owner) => (!best || owner.pointer.length <= best.pointer.length ? owner : best),
        undefined,
      );

  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  const add = (path: Array<string | number>, message: string) => {
    const key = `${JSON.stringify(path)} ${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push({ path, message });
  };

  for (const error of errors) {
    // "must match then schema" only repeats the errors found inside that branch.
    if (error.keyword === 'if') continue;
    const path = pointerToPath(error.instancePath);
    const owner = ownerOf(error.instancePath);
    if (owner) {
      add(pointerToPath(owner.pointer), owner.message);
      continue;
    }
    switch (error.keyword) {
      case 'required': {
        const { missingProperty } = error.params as { missingProperty: string };
        add([...path, missingProperty], 'is required');
        break;
      }
      case 'additionalProperties': {
        const { additionalProperty } = error.params as { additionalProperty: string };
        const allowed = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
        add(
          [...path, additionalProperty],
          `unknown key${allowed.length ? ` (allowed here: ${allowed.join(', ')})` : ''}`,
        );
        break;
      }
      case 'enum': {
        const { allowedValues } = error.params as { allowedValues: unknown[] };
        add(path, `must be one of ${allowedValues.map(String).join(', ')}`);
        break;
      }
      case 'const': {
        const { allowedValue } = error.params as { allowedValue: unknown };
        add(path, `must be ${String(allowedValue)}`);
        break;
      }
      case 'type': {
        const { type } = error.params as { type: string };
        add(path, `must be ${TYPE_NAMES[type] ?? type}`);
        break;
      }
      case 'maxLength': {
        const { limit } = error.params as { limit: number };
        add(path, `must be at most ${limit} characters`);
        break;
      }
      default:
        add(path, error.message ?? 'is invalid');
    }
  }
  return problems;
}
