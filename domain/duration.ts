/**
 * ISO 8601 durations as policy writes them. Only fixed-length units are accepted: weeks (PnW, alone)
 * or days, hours, minutes and seconds (PnDTnHnMnS). Years and months are refused because their length
 * depends on the calendar, and a grant must last exactly as long as approved.
 */
const DURATION = /^P(?!$)(?:(\d+)W|(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?)$/;

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** Milliseconds in `text`; throws a RangeError on anything but the supported forms. */
export function parseIsoDuration(text: string): number {
  const match = DURATION.exec(text);
  if (!match) {
    const why = /^P[^T]*[YM]/.test(text) ? ' (years and months are not supported)' : '';
    throw new RangeError(`"${text}" is not an ISO 8601 duration such as PT30M, PT8H, P1DT12H or P1W${why}`);
  }
  const [, weeks, days, hours, minutes, seconds] = match;
  const ms =
    Number(weeks ?? 0) * WEEK +
    Number(days ?? 0) * DAY +
    Number(hours ?? 0) * HOUR +
    Number(minutes ?? 0) * MINUTE +
    Math.round(Number(seconds ?? 0) * SECOND);
  if (!Number.isSafeInteger(ms)) throw new RangeError(`"${text}" is too long`);
  return ms;
}

/** The shortest PnDTnHnMnS text for `ms` (whole milliseconds, not negative); `PT0S` for zero. */
export function formatIsoDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`${ms} is not a whole, non-negative number of milliseconds`);
  if (ms === 0) return 'PT0S';
  const days = Math.floor(ms / DAY);
  const hours = Math.floor((ms % DAY) / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  const millis = ms % MINUTE;
  const time =
    (hours ? `${hours}H` : '') +
    (minutes ? `${minutes}M` : '') +
    (millis ? `${millis % SECOND ? (millis / SECOND).toFixed(3).replace(/0+$/, '') : millis / SECOND}S` : '');
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}
