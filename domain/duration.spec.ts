import { formatIsoDuration, parseIsoDuration } from './duration';

describe(parseIsoDuration.name, () => {
  it.each([
    ['PT1M', 60_000],
    ['PT2H', 7_200_000],
    ['PT1H30M', 5_400_000],
    ['P1D', 86_400_000],
    ['P1DT12H', 129_600_000],
    ['P2W', 1_209_600_000],
    ['PT45S', 45_000],
    ['PT1.5S', 1_500],
    ['PT0S', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms);
  });

  it.each(['', 'P', 'PT', 'P1DT', '2h', 'PT2X', 'P1W2D', 'PT-1H', 'pt1h', 'PT1.2345S'])('refuses %j', (text) => {
    expect(() => parseIsoDuration(text)).toThrow(RangeError);
  });

  it.each(['P1Y', 'P2M', 'P1Y2M3D'])('refuses years and months in %s, saying why', (text) => {
    expect(() => parseIsoDuration(text)).toThrow(/years and months are not supported/);
  });
});

describe(formatIsoDuration.name, () => {
  it.each([
    [0, 'PT0S'],
    [60_000, 'PT1M'],
    [7_200_000, 'PT2H'],
    [5_400_000, 'PT1H30M'],
    [604_800_000, 'P7D'],
    [129_600_000, 'P1DT12H'],
    [1_500, 'PT1.5S'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatIsoDuration(ms)).toBe(text);
  });

  it.each([1, 999, 61_001, 90_061_000, 1_209_600_000])('round-trips %d ms through parseIsoDuration', (ms) => {
    expect(parseIsoDuration(formatIsoDuration(ms))).toBe(ms);
  });

  it.each([-1, 1.5, Number.NaN])('refuses %d', (ms) => {
    expect(() => formatIsoDuration(ms)).toThrow(RangeError);
  });
});
