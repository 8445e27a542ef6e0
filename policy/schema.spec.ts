import { parseIsoDuration } from '../domain/duration';
import { POLICY_SCHEMA } from './schema';

describe('the schema’s duration pattern', () => {
  const pattern = new RegExp(
    (POLICY_SCHEMA as { definitions: { duration: { pattern: string } } }).definitions.duration.pattern,
    'u',
  );

  it.each(['PT1M', 'P1W', 'P1DT2H3M4.5S', 'PT0S', 'P', 'PT', 'P1Y', 'P1M', 'P1W1D', 'PT1.2345S', 'P1DT', '1H'])(
    'accepts %j exactly when parseIsoDuration does',
    (text) => {
      let parses = true;
      try {
        parseIsoDuration(text);
      } catch {
        parses = false;
      }
      expect(pattern.test(text)).toBe(parses);
    },
  );
});
