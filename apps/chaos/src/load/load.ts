import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { LoadRecorder, type Outcome } from './recorder';
import { arrivalCount, dueArrivals, intendedStartMs } from './schedule';
import { checkTargetUrl } from './target';
import { DEFAULT_MIX, type LoadOptions, type LoadReport, type RunLoad, type SecondSample } from './types';
import { Api, type Answer, type Customer, parseJson, type Product, Workload } from './workload';

/**
 * The load generator: learns the catalog, registers and logs in the
 * customers, then runs the mixed workload (workload.ts) open-loop (arrivals
 * on a fixed clock, latency from each one's intended start) or closed-loop
 * (N users, each waiting for its answer), hands out a sample as each second
 * ends, and on the duration's end or the signal awaits what is in flight and
 * returns the report.
 */

const DEFAULT_CUSTOMERS = 20;
const DEFAULT_MAX_IN_FLIGHT = 2_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const SETUP_CONCURRENCY = 5;
const SETUP_ATTEMPTS = 5;

type Settings = LoadReport['options'] & {
  readonly mix: NonNullable<LoadOptions['mix']>;
  readonly customers: number;
  readonly maxInFlight: number;
  readonly requestTimeoutMs: number;
};

function positive(name: string, value: number | undefined, integer: boolean): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`load: ${name} must be a positive ${integer ? 'integer' : 'number'} (got ${String(value)})`);
  }
  return value;
}

function settingsOf(options: LoadOptions): Settings {
  const mix = options.mix ?? DEFAULT_MIX;
  const weights = [mix.browse, mix.order, mix.cancel];
  if (weights.some((weight) => !Number.isFinite(weight) || weight < 0) || weights.every((weight) => weight === 0)) {
    throw new Error(`load: mix weights must be ≥ 0 and not all 0 (got ${JSON.stringify(mix)})`);
  }
  return {
    gatewayUrl: options.gatewayUrl,
    mode: options.mode,
    ...(options.mode === 'open'
      ? { ratePerSecond: positive('ratePerSecond', options.ratePerSecond, false) }
      : { users: positive('users', options.users, true) }),
    durationSeconds: positive('durationSeconds', options.durationSeconds, false),
    mix,
    customers: positive('customers', options.customers ?? DEFAULT_CUSTOMERS, true),
    maxInFlight: positive('maxInFlight', options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, true),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, false),
  };
}

const clock = (): number => performance.now();

/** Resolves at `atMs` on the monotonic clock, or as soon as `signal` aborts. */
function until(atMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, atMs - clock()));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A set-up request (catalog, register, login), retried while the answer says "later" (429, 503, no answer). */
async function setupCall(what: string, send: () => Promise<Answer>, signal: AbortSignal | undefined): Promise<Answer> {
  let answer = await send();
  for (let attempt = 1; attempt < SETUP_ATTEMPTS && !signal?.aborted; attempt++) {
    if (!['429', '503', 'timeout', 'network'].includes(answer.status)) return answer;
    // Backing off (as Retry-After asks, at most 5 s), not waiting for a condition.
    await until(clock() + Math.min(5_000, (answer.retryAfterS ?? 0.5 * attempt) * 1000), signal);
    answer = await send();
  }
  if (['429', '503', 'timeout', 'network'].includes(answer.status) && !signal?.aborted) {
    throw new Error(`load: ${what}: still ${answer.status} after ${SETUP_ATTEMPTS} attempts (${detail(answer)})`);
  }
  return answer;
}

function detail(answer: Answer): string {
  const body = answer.body as { detail?: unknown; title?: unknown } | undefined;
  return String(body?.detail ?? body?.title ?? (typeof answer.body === 'string' ? answer.body : answer.status));
}

async function learnCatalog(api: Api, signal: AbortSignal | undefined): Promise<Product[]> {
  const answer = await setupCall('GET /products', () => api.send('GET', '/products'), signal);
  if (signal?.aborted) return [];
  const items = (answer.body as { items?: unknown } | undefined)?.items;
  if (answer.status !== '200' || !Array.isArray(items)) {
    throw new Error(`load: GET /api/v1/products answered ${answer.status} (${detail(answer)}); is the gateway up?`);
  }
  const products = items.filter(
    (item): item is Product =>
      typeof (item as Product).sku === 'string' && typeof (item as Product).available === 'number',
  );
  if (products.length === 0) throw new Error('load: the catalog (GET /api/v1/products) is empty');
  return products.map(({ sku, available }) => ({ sku, available }));
}

async function logIn(api: Api, customer: Customer, signal: AbortSignal | undefined): Promise<void> {
  const answer = await logInAnswer(api, customer, signal);
  if (!tokenFrom(answer, customer)) {
    if (signal?.aborted) return;
    throw new Error(`load: log in ${customer.email}: ${answer.status} (${detail(answer)})`);
  }
}

function logInAnswer(api: Api, customer: Customer, signal: AbortSignal | undefined): Promise<Answer> {
  return setupCall(
    `log in ${customer.email}`,
    () => api.send('POST', '/auth/login', { body: { email: customer.email, password: customer.password } }),
    signal,
  );
}

/** Takes the token of a successful log-in (false for any other answer). */
function tokenFrom(answer: Answer, customer: Customer): boolean {
  const body = answer.body as { accessToken?: unknown; expiresIn?: unknown } | undefined;
  if (answer.status !== '200' || typeof body?.accessToken !== 'string') return false;
  customer.token = body.accessToken;
  const lifetimeMs = (typeof body.expiresIn === 'number' ? body.expiresIn : 900) * 1000;
  // Renewed well before it expires, so no request of the load is refused for an old token.
  const renewInMs = Math.max(lifetimeMs / 2, lifetimeMs - 60_000);
  customer.renewAfterMs = clock() + renewInMs;
  customer.renewAt = Date.now() + renewInMs;
  return true;
}

/**
 * What the stack makes of a customers file, by its first customer: GET /me
 * with its token, or a log-in when that token is due for renewal (the
 * customer keeps the new token). 'gone': 404, or a log-in refused (401); the
 * stack was reset since the file was written. 'keys': the token was refused
 * (401) but the log-in works; the stack signs with another key now (a
 * user-service that generates one at start), so every saved token is
 * renewed before use. Any other answer but 200 is the stack's error.
 */
async function savedCustomersOn(
  api: Api,
  customer: Customer,
  signal: AbortSignal | undefined,
): Promise<'known' | 'keys' | 'gone'> {
  const fail = (answer: Answer): never => {
    throw new Error(`load: check a saved customer (${customer.email}): ${answer.status} (${detail(answer)})`);
  };
  let refused = false;
  if (customer.token !== '' && clock() < customer.renewAfterMs) {
    const me = await setupCall(
      `GET /me as ${customer.email}`,
      () => api.send('GET', '/me', { token: customer.token }),
      signal,
    );
    if (signal?.aborted || me.status === '200') return 'known';
    if (me.status === '404') return 'gone';
    if (me.status !== '401') return fail(me);
    refused = true;
  }
  const login = await logInAnswer(api, customer, signal);
  if (signal?.aborted) return 'known';
  if (tokenFrom(login, customer)) return refused ? 'keys' : 'known';
  return login.status === '401' || login.status === '404' ? 'gone' : fail(login);
}

async function signUp(api: Api, index: number, signal: AbortSignal | undefined): Promise<Customer> {
  const customer: Customer = {
    email: `load-${randomUUID()}@example.test`,
    password: `pw-${randomUUID()}`,
    token: '',
    renewAfterMs: 0,
    orders: [],
  };
  const body = { email: customer.email, password: customer.password, name: `Load Customer ${index + 1}` };
  const answer = await setupCall(
    `register ${customer.email}`,
    () => api.send('POST', '/auth/register', { body }),
    signal,
  );
  if (signal?.aborted) return customer;
  if (answer.status !== '201') throw new Error(`load: register a customer: ${answer.status} (${detail(answer)})`);
  await logIn(api, customer, signal);
  return customer;
}

async function signUpAll(
  api: Api,
  count: number,
  signal: AbortSignal | undefined,
  numberedFrom = 0,
): Promise<Customer[]> {
  const customers: Customer[] = [];
  const end = numberedFrom + count;
  let next = numberedFrom;
  const worker = async (): Promise<void> => {
    while (next < end && !signal?.aborted) customers.push(await signUp(api, next++, signal));
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, count) }, worker));
  return customers;
}

/** A customers file: the customers of one gateway (another gateway's are of another stack, and are not used). */
const CustomersFile = z.object({
  gatewayUrl: z.string(),
  customers: z.array(
    z.object({
      email: z.string().min(1),
      password: z.string().min(1),
      token: z.string(),
      renewAt: z.number(),
    }),
  ),
});
type CustomersFile = z.infer<typeof CustomersFile>;

async function readCustomers(file: string, gatewayUrl: string): Promise<CustomersFile['customers']> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const parsed = CustomersFile.safeParse(parseJson(text));
  if (!parsed.success) throw new Error(`load: ${file} is not a customers file (${parsed.error.issues[0]?.message})`);
  return parsed.data.gatewayUrl === gatewayUrl ? parsed.data.customers : [];
}

/** Written whole under another name, then renamed: a run reading it beside this one never sees half a file. */
async function writeCustomers(file: string, gatewayUrl: string, customers: readonly Customer[]): Promise<void> {
  const content: CustomersFile = {
    gatewayUrl,
    customers: customers.map(({ email, password, token, renewAt }) => ({
      email,
      password,
      token,
      renewAt: renewAt ?? 0,
    })),
  };
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await rename(partial, file);
}

/**
 * The load's customers: registered and logged in, or, with a customers file,
 * those it holds for this gateway (a token due for renewal is renewed at its
 * first use), and only the missing ones registered; the file is then
 * written back. `tokens` tells, at the end of the run, whether a token was
 * renewed since (the file then gets the new ones).
 */
async function customersFor(
  api: Api,
  gatewayUrl: string,
  count: number,
  file: string | undefined,
  signal: AbortSignal | undefined,
  onNotice: ((line: string) => void) | undefined,
): Promise<{ customers: Customer[]; tokens: () => string }> {
  const saved = file === undefined ? [] : (await readCustomers(file, gatewayUrl)).slice(0, count);
  let reused = saved.map(({ email, password, token, renewAt }): Customer => ({
    email,
    password,
    token,
    renewAt,
    renewAfterMs: clock() + (renewAt - Date.now()),
    orders: [],
  }));
  // One customer stands for the file: a stack reset since it was written (same gateway) forgot them all.
  const probe = reused[0];
  const probeToken = probe?.token;
  const verdict = probe && !signal?.aborted ? await savedCustomersOn(api, probe, signal) : 'known';
  if (verdict === 'gone') {
    onNotice?.(`the customers of ${file} are not known to this stack (reset since?): signing up new ones`);
    reused = [];
  } else if (verdict === 'keys') {
    onNotice?.(`the saved tokens of ${file} are refused (another signing key): logging every customer in anew`);
    for (const customer of reused.slice(1)) customer.renewAfterMs = 0;
  }
  const fresh = reused.length < count ? await signUpAll(api, count - reused.length, signal, reused.length) : [];
  const customers = [...reused, ...fresh];
  const changed = fresh.length > 0 || (reused[0] !== undefined && reused[0].token !== probeToken);
  if (file !== undefined && changed && !signal?.aborted) await writeCustomers(file, gatewayUrl, customers);
  return { customers, tokens: () => customers.map((customer) => customer.token).join(' ') };
}

export const runLoad: RunLoad = async (options) => {
  const settings = settingsOf(options);
  const gateway = checkTargetUrl(options.gatewayUrl);
  const { signal } = options;
  const api = new Api(`${gateway.href.replace(/\/$/, '')}/api/v1`, settings.requestTimeoutMs);

  const catalog = await learnCatalog(api, signal);
  const { customers, tokens } = signal?.aborted
    ? { customers: [], tokens: () => '' }
    : await customersFor(api, gateway.href, settings.customers, options.customersFile, signal, options.onNotice);
  const tokensAtStart = tokens();

  const start = clock();
  const recorder = new LoadRecorder(start, Date.now());
  const samples: SecondSample[] = [];
  const orderIds = new Set<string>();
  if (signal?.aborted) return { options: settings, samples, totals: recorder.totals(), orderIds: [] };

  const workload = new Workload(
    api,
    catalog,
    customers,
    settings.mix,
    (customer) => logIn(api, customer, signal),
    clock,
  );
  let inFlight = 0;
  let callbackError: unknown;

  const emit = (ready: readonly SecondSample[]): void => {
    for (const sample of ready) {
      samples.push(sample);
      try {
        options.onSample?.(sample);
      } catch (error) {
        // Thrown from a timer it would end the process; it is rethrown once the load has stopped.
        callbackError ??= error;
      }
    }
  };
  let ticker: NodeJS.Timeout | undefined;
  const tick = (): void => {
    emit(recorder.closeEnded(clock(), inFlight));
    const nextBoundary = start + (Math.floor((clock() - start) / 1000) + 1) * 1000;
    ticker = setTimeout(tick, Math.max(0, nextBoundary - clock()));
  };
  ticker = setTimeout(tick, 1000);

  /** Sends one action; its latency runs from `fromMs` (the intended start in open loop). */
  const send = async (fromMs: number, customer?: Customer): Promise<void> => {
    const action = workload.next(customer);
    recorder.started(clock());
    inFlight += 1;
    let result: Outcome;
    try {
      result = await action.run();
    } catch {
      // run() does not throw; should it, the request still counts, as a failure.
      result = { status: 'network', error: true };
    }
    inFlight -= 1;
    const now = clock();
    recorder.answered(now, now - fromMs, result);
    if (result.orderId !== undefined) orderIds.add(result.orderId);
  };

  const endMs = start + settings.durationSeconds * 1000;
  if (settings.mode === 'open') {
    const rate = settings.ratePerSecond ?? 0;
    const total = arrivalCount(rate, settings.durationSeconds);
    const pending = new Set<Promise<void>>();
    let next = 0;
    while (next < total && !signal?.aborted) {
      const due = dueArrivals(next, clock() - start, rate, total);
      for (; next < due; next++) {
        if (inFlight >= settings.maxInFlight) {
          recorder.dropped(clock());
          continue;
        }
        const request = send(start + intendedStartMs(next, rate));
        pending.add(request);
        void request.finally(() => pending.delete(request));
      }
      if (next < total) await until(start + intendedStartMs(next, rate), signal);
    }
    // The last second is a whole one, then whatever is still in flight is awaited.
    await until(endMs, signal);
    while (pending.size > 0) await Promise.all(pending);
  } else {
    const user = async (index: number): Promise<void> => {
      const customer = customers[index % customers.length];
      while (clock() < endMs && !signal?.aborted) await send(clock(), customer);
    };
    await Promise.all(Array.from({ length: settings.users ?? 0 }, (_, index) => user(index)));
  }

  clearTimeout(ticker);
  emit(recorder.closeAll(clock(), inFlight));
  // Tokens renewed during the run go back to the file, so the next run does not log in again.
  if (options.customersFile !== undefined && tokens() !== tokensAtStart) {
    await writeCustomers(options.customersFile, gateway.href, customers);
  }
  if (callbackError !== undefined) throw callbackError;
  return { options: settings, samples, totals: recorder.totals(), orderIds: [...orderIds] };
};
