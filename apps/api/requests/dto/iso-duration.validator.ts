import { registerDecorator, type ValidationOptions } from 'class-validator';
import { parseIsoDuration } from '../../../../domain/duration';

/** Longest duration text worth parsing; real ones are a dozen characters. */
const MAX_DURATION_TEXT = 32;

export function isPositiveIsoDuration(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > MAX_DURATION_TEXT) return false;
  try {
    return parseIsoDuration(value) > 0;
  } catch {
    return false;
  }
}

/** An ISO 8601 duration (PT30M, PT8H, P1D) longer than zero; the flow's limits are policy's to check. */
export function IsPositiveIsoDuration(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isPositiveIsoDuration',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `$property must be an ISO 8601 duration longer than zero, such as PT30M or PT2H`,
        ...options,
      },
      validator: { validate: isPositiveIsoDuration },
    });
}
