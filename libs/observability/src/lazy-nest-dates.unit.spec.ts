import { lazyDateTimeFormat, loadNestLoggersWithLazyDates } from './lazy-nest-dates';

const OPTIONS: Intl.DateTimeFormatOptions = { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' };
const DAY = Date.UTC(2026, 11, 6, 8, 30);

/** Intl.DateTimeFormat, counting the formatters built through it, for the duration of `work`. */
function countingDateTimeFormats<T>(work: (built: () => number) => T): T {
  const Real = Intl.DateTimeFormat;
  let count = 0;
  function Counting(locales?: string | string[], options?: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
    count++;
    return new Real(locales, options);
  }
  Intl.DateTimeFormat = Counting as unknown as typeof Intl.DateTimeFormat;
  try {
    return work(() => count);
  } finally {
    Intl.DateTimeFormat = Real;
  }
}

describe('lazyDateTimeFormat', () => {
  it('builds the real formatter on first use only, once, with the arguments it was given', () => {
    const built: Array<[unknown, unknown]> = [];
    const formatter = lazyDateTimeFormat(
      (locales, options) => {
        built.push([locales, options]);
        return new Intl.DateTimeFormat(locales, options);
      },
      'en-US',
      OPTIONS,
    );
    expect(built).toEqual([]);

    expect(formatter.format(DAY)).toBe(new Intl.DateTimeFormat('en-US', OPTIONS).format(DAY));
    expect(formatter.formatToParts(DAY)).toEqual(new Intl.DateTimeFormat('en-US', OPTIONS).formatToParts(DAY));
    expect(formatter.resolvedOptions().timeZone).toBe('UTC');
    expect(built).toEqual([['en-US', OPTIONS]]);
  });
});

describe('loadNestLoggersWithLazyDates', () => {
  it('loads the modules with a stand-in DateTimeFormat and restores the real one afterwards', () => {
    const Real = Intl.DateTimeFormat;
    const seen: Intl.DateTimeFormat[] = [];
    loadNestLoggersWithLazyDates(() => {
      seen.push(new Intl.DateTimeFormat('en-US', OPTIONS));
    });

    expect(Intl.DateTimeFormat).toBe(Real);
    expect(seen.length).toBeGreaterThan(0);
    for (const formatter of seen) {
      expect(formatter).not.toBeInstanceOf(Real);
      expect(formatter.format(DAY)).toBe(new Real('en-US', OPTIONS).format(DAY));
    }
  });

  it('restores the real DateTimeFormat when a module fails to load', () => {
    const Real = Intl.DateTimeFormat;
    expect(() =>
      loadNestLoggersWithLazyDates(() => {
        throw new Error('cannot load');
      }),
    ).toThrow('cannot load');
    expect(Intl.DateTimeFormat).toBe(Real);
  });

  it("leaves @nestjs/common's date formatters unbuilt until Nest's console logger writes a line", () => {
    jest.isolateModules(() => {
      countingDateTimeFormats((built) => {
        loadNestLoggersWithLazyDates((id) => require(id) as unknown);
        // Without the stand-in, loading these two modules builds two formatters.
        expect(built()).toBe(0);

        const { ConsoleLogger } = require('@nestjs/common') as typeof import('@nestjs/common');
        const written: string[] = [];
        const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
          written.push(String(chunk));
          return true;
        });
        try {
          new ConsoleLogger('Spec', { colors: false }).log('hello');
        } finally {
          write.mockRestore();
        }
        expect(written.join('')).toMatch(/hello/);
        expect(built()).toBe(1);
      });
    });
  });
});
