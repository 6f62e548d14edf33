/**
 * @nestjs/common builds two `Intl.DateTimeFormat` when it loads (in its
 * `Logger` and `ConsoleLogger` modules), for the timestamps of the console
 * logger these services replace with pino (NestPinoLogger). Building the
 * first makes V8 load ICU's locale data: about 5 MB of the Node binary's
 * pages and 10 MB of RSS in a bare process, for formatters nothing calls. In
 * the services it saved 8 to 9 MB, and 2 to 3 MB in the three that use
 * Kafka, whose topic set-up compares strings by locale (bench/README.md).
 *
 * `loadNestLoggersWithLazyDates` loads those two modules first, while
 * `Intl.DateTimeFormat` is a stand-in whose formatters build the real one on
 * their first use; it is restored at once, so nothing else sees the
 * stand-in. Call it before anything requires @nestjs/common (the preload).
 */
const NEST_MODULES_WITH_FORMATTERS = [
  // Their decorators need Reflect.getMetadata, which every Nest app loads first anyway.
  'reflect-metadata',
  '@nestjs/common/services/console-logger.service',
  '@nestjs/common/services/logger.service',
] as const;

/** A DateTimeFormat that builds the real one, with the same arguments, when it is first used. */
export function lazyDateTimeFormat(
  build: (locales?: string | string[], options?: Intl.DateTimeFormatOptions) => Intl.DateTimeFormat,
  locales?: string | string[],
  options?: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  let real: Intl.DateTimeFormat | undefined;
  const formatter = () => (real ??= build(locales, options));
  return {
    format: (date) => formatter().format(date),
    formatToParts: (date) => formatter().formatToParts(date),
    formatRange: (start, end) => formatter().formatRange(start, end),
    formatRangeToParts: (start, end) => formatter().formatRangeToParts(start, end),
    resolvedOptions: () => formatter().resolvedOptions(),
  };
}

/** Throws what a load throws, with the real DateTimeFormat restored (the preload then warns). */
export function loadNestLoggersWithLazyDates(load: (id: string) => unknown = require): void {
  const DateTimeFormat = Intl.DateTimeFormat;
  // A function, not an arrow: Nest calls it with `new`, which returns the object it returns.
  function standIn(locales?: string | string[], options?: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
    return lazyDateTimeFormat((...args) => new DateTimeFormat(...args), locales, options);
  }
  Intl.DateTimeFormat = standIn as unknown as typeof Intl.DateTimeFormat;
  try {
    for (const id of NEST_MODULES_WITH_FORMATTERS) load(id);
  } finally {
    Intl.DateTimeFormat = DateTimeFormat;
  }
}
