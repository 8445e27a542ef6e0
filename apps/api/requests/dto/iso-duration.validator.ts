import { registerDecorator, type ValidationOptions } from 'class-validator';

/** Longest duration text worth reading; real ones are a dozen characters. */
export const MAX_DURATION_TEXT = 32;
/**
 * Significant digits a unit may have: a million weeks is still a whole number of milliseconds that
 * JavaScript counts exactly, whatever the other units add.
 */
const MAX_UNIT_DIGITS = 6;

/** Any amount of a unit; leading zeros do not count as digits. */
const amount = `0*[0-9]{1,${MAX_UNIT_DIGITS}}`;
const someAmount = `0*[1-9][0-9]{0,${MAX_UNIT_DIGITS - 1}}`;
const fraction = `\\.[0-9]{1,3}`;
const someFraction = `\\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])`;
const seconds = `${amount}(?:${fraction})?S`;
const someSeconds = `(?:${someAmount}(?:${fraction})?|0+${someFraction})S`;
/** A time part with at least one unit, and one with at least one unit above zero (H, M, S in order). */
const time = `T(?:${amount}H(?:${amount}M)?(?:${seconds})?|${amount}M(?:${seconds})?|${seconds})`;
const someTime =
  `T(?:${someAmount}H(?:${amount}M)?(?:${seconds})?` +
  `|(?:${amount}H)?${someAmount}M(?:${seconds})?` +
  `|(?:${amount}H)?(?:${amount}M)?${someSeconds})`;

/**
 * What the API takes as a duration: ISO 8601 in the fixed-length units policy reads
 * (domain/duration.ts: PnW alone, or PnDTnHnMnS), longer than zero, each unit at most
 * MAX_UNIT_DIGITS significant digits. Spelled without lookarounds, so that the OpenAPI document can
 * carry this very pattern and a generator can draw values from it.
 */
export const POSITIVE_DURATION_PATTERN = new RegExp(
  `^P(?:${someAmount}W|${someAmount}D(?:${time})?|(?:${amount}D)?${someTime})$`,
);

export function isPositiveIsoDuration(value: unknown): boolean {
  return typeof value === 'string' && value.length <= MAX_DURATION_TEXT && POSITIVE_DURATION_PATTERN.test(value);
}

/** The document's words for such a duration, beside the pattern. */
export const POSITIVE_DURATION_SCHEMA = {
  type: 'string',
  pattern: POSITIVE_DURATION_PATTERN.source,
  maxLength: MAX_DURATION_TEXT,
} as const;

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
