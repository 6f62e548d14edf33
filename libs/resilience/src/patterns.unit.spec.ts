import { isRemoved, REMOVE_PATTERNS_ENV, removedPatterns, withPatternRemoved } from './patterns';

describe('UNSAFE_REMOVE_PATTERNS', () => {
  it('names only known patterns', () => {
    expect([...removedPatterns({ [REMOVE_PATTERNS_ENV]: 'inbox, breaker' })]).toEqual(['inbox', 'breaker']);
    expect(() => removedPatterns({ [REMOVE_PATTERNS_ENV]: 'inbox,outboxx' })).toThrow(/unknown patterns: outboxx/);
  });

  it('removes a pattern for one piece of work only', async () => {
    expect(isRemoved('inbox')).toBe(false);
    await withPatternRemoved('inbox', async () => {
      expect(isRemoved('inbox')).toBe(true);
      expect(isRemoved('breaker')).toBe(false);
    });
    expect(isRemoved('inbox')).toBe(false);
    expect(process.env[REMOVE_PATTERNS_ENV]).toBeUndefined();
  });
});
