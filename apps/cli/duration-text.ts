import { formatIsoDuration, parseIsoDuration } from '../../domain/duration';

/** 90m, 2h, 1h30m, 1d, 45s, in that order of units, or ISO 8601 (PT2H). */
const SHORT = /^(?=\d)(?:(\d{1,5})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m)?(?:(\d{1,9})s)?$/;
const UNIT_MS = [86_400_000, 3_600_000, 60_000, 1_000];

/**
 * Milliseconds in a duration as people type it at a terminal (`2h`, `1h30m`) or as the API writes it
 * (`PT2H`). Throws a RangeError that shows the accepted forms; zero is refused.
 */
export function parseDurationText(text: string): number {
  const trimmed = text.trim();
  let ms: number;
  const short = SHORT.exec(trimmed.toLowerCase());
  if (short) {
    ms = short.slice(1).reduce((total, amount, index) => total + Number(amount ?? 0) * UNIT_MS[index], 0);
  } else if (/^p/i.test(trimmed)) {
    try {
      ms = parseIsoDuration(trimmed.toUpperCase());
    } catch (err) {
      throw new RangeError((err as Error).message);
    }
  } else {
    throw new RangeError(`"${text}" is not a duration: write it like 90m, 2h, 1h30m or PT2H`);
  }
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`"${text}" must be longer than zero`);
  return ms;
}

/** The ISO 8601 text the API takes: `1h30m` → `PT1H30M`. */
export function isoDurationOf(text: string): string {
  return formatIsoDuration(parseDurationText(text));
}

/** For people: 5400000 → `1h30m`, 90000 → `1m30s`. */
export function formatDurationShort(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000)) * 1000;
  let text = '';
  for (const [index, unit] of ['d', 'h', 'm', 's'].entries()) {
    const amount = Math.floor(rest / UNIT_MS[index]);
    rest -= amount * UNIT_MS[index];
    if (amount > 0) text += `${amount}${unit}`;
  }
  return text || '0s';
}
