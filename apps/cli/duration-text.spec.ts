import { formatDurationShort, isoDurationOf, parseDurationText } from './duration-text';

describe(parseDurationText.name, () => {
  it.each([
    ['90m', 90 * 60_000],
    ['2h', 2 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['1d', 86_400_000],
    ['45s', 45_000],
    ['2H', 2 * 3_600_000],
    ['PT2H', 2 * 3_600_000],
    ['pt1h30m', 90 * 60_000],
    ['P1DT2H', 26 * 3_600_000],
  ])('reads %p', (text, ms) => {
    expect(parseDurationText(text)).toBe(ms);
  });

  it.each(['', '2', 'h', '2x', '30m1h', '-1h', '1.5h', '0m', 'PT0S', 'P1Y', 'two hours'])('refuses %p', (text) => {
    expect(() => parseDurationText(text)).toThrow(RangeError);
  });

  it('says which forms it takes', () => {
    expect(() => parseDurationText('2 hours')).toThrow('write it like 90m, 2h, 1h30m or PT2H');
  });
});

describe(isoDurationOf.name, () => {
  it('writes what the API takes', () => {
    expect(isoDurationOf('90m')).toBe('PT1H30M');
    expect(isoDurationOf('1h30m')).toBe('PT1H30M');
    expect(isoDurationOf('2h')).toBe('PT2H');
    expect(isoDurationOf('PT2H')).toBe('PT2H');
    expect(isoDurationOf('1d')).toBe('P1D');
  });
});

describe(formatDurationShort.name, () => {
  it('writes durations for people', () => {
    expect(formatDurationShort(5_400_000)).toBe('1h30m');
    expect(formatDurationShort(90_000)).toBe('1m30s');
    expect(formatDurationShort(0)).toBe('0s');
    expect(formatDurationShort(86_400_000 + 1_000)).toBe('1d1s');
  });
});
