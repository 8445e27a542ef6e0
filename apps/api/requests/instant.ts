/**
 * An RFC 3339 instant with its time zone (Z or +01:00), as startAt and the list's time filters take it: the
 * document says the same with `format: date-time`, and IsISO8601 (strict) refuses a date that does not exist,
 * such as 2026-02-30.
 * Years from 1000, where a JavaScript Date reads every year the same way.
 */
export const INSTANT_PATTERN =
  /^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$/;
