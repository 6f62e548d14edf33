import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureDir, root } from './paths.ts';
import { isAlive, livePid, pollUntil, removeFile, terminate, writePid } from './processes.ts';
import type { Stack } from './stack.ts';

/**
 * A real Apache Kafka broker for local runs: the jars come from Maven Central
 * through infra/kafka/pom.xml, the broker runs as a single KRaft node
 * (broker + controller) with its data under infra/kafka/data/<port>.
 */
const KAFKA_DIR = path.join(root, 'infra', 'kafka');
const LIBS_DIR = path.join(KAFKA_DIR, 'target', 'libs');
const BROKER_JAR = 'kafka_2.13-3.9.1.jar';
const MAIN_CLASS = 'kafka.Kafka';
const HEAP = process.env['KAFKA_HEAP'] ?? '512m';

export interface KafkaPaths {
  readonly dataDir: string;
  readonly logDir: string;
  readonly configFile: string;
  readonly pidFile: string;
  readonly logFile: string;
}

export function kafkaPaths(stack: Stack): KafkaPaths {
  const dataDir = path.join(KAFKA_DIR, 'data', String(stack.kafkaPort));
  return {
    dataDir,
    logDir: path.join(dataDir, 'log'),
    configFile: path.join(dataDir, 'server.properties'),
    pidFile: path.join(stack.runDir, 'kafka.pid'),
    logFile: path.join(stack.logsDir, 'kafka.log'),
  };
}

interface Finished {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a command to the end without blocking the event loop (Kafka and PostgreSQL start side by side). */
function runToEnd(command: string, args: readonly string[]): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ code: null, output: error.message }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function requireTool(command: string, args: string[], hint: string): Promise<void> {
  const probe = await runToEnd(command, args);
  if (probe.code !== 0) throw new Error(`${command} is not available: ${hint}`);
}

/** Downloads the broker's jars with Maven the first time they are needed. */
export async function ensureKafkaRuntime(say: (line: string) => void): Promise<void> {
  if (existsSync(path.join(LIBS_DIR, BROKER_JAR))) return;
  await requireTool('java', ['-version'], 'install Java 17+ (or set KAFKA_BROKERS to use a running broker)');
  await requireTool('mvn', ['-v'], 'install Apache Maven (or set KAFKA_BROKERS to use a running broker)');
  say('fetching Apache Kafka 3.9.1 from Maven Central (first run only)');
  const result = await runToEnd('mvn', ['-B', '-q', '-f', path.join(KAFKA_DIR, 'pom.xml'), 'package']);
  if (result.code !== 0 || !existsSync(path.join(LIBS_DIR, BROKER_JAR))) {
    throw new Error(`mvn could not fetch Kafka:\n${result.output}`);
  }
}

function javaArgs(extra: string[]): string[] {
  return [
    `-Xms128m`,
    `-Xmx${HEAP}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${path.join(KAFKA_DIR, 'log4j.properties')}`,
    '-cp',
    `${LIBS_DIR}/*`,
    ...extra,
  ];
}

/**
 * Renders server.properties and formats the data folder unless a previous run
 * finished formatting it. A folder without the marker (a run killed while
 * formatting) is wiped and formatted again.
 */
export async function ensureFormatted(stack: Stack): Promise<void> {
  const paths = kafkaPaths(stack);
  const marker = path.join(paths.dataDir, '.formatted');
  const template = readFileSync(path.join(KAFKA_DIR, 'server.properties.template'), 'utf8');
  const config = template
    .replaceAll('{{BROKER_PORT}}', String(stack.kafkaPort))
    .replaceAll('{{CONTROLLER_PORT}}', String(stack.kafkaControllerPort))
    .replaceAll('{{LOG_DIR}}', paths.logDir);
  if (existsSync(marker)) {
    writeFileSync(paths.configFile, config);
    return;
  }
  rmSync(paths.dataDir, { recursive: true, force: true });
  ensureDir(paths.dataDir);
  writeFileSync(paths.configFile, config);
  const format = await runToEnd(
    'java',
    javaArgs(['kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', paths.configFile]),
  );
  if (format.code !== 0) throw new Error(`formatting Kafka storage failed:\n${format.output}`);
  writeFileSync(marker, new Date().toISOString());
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding, never
 * starting with '-' (kafka-storage would read it as an option, as Kafka's own
 * Uuid.randomUuid() avoids too; one id in 64 did).
 */
export function clusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** True when a kafkajs admin can list topics on `brokers`. */
export async function kafkaAnswers(brokers: string[], timeoutMs = 3_000): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'stack-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function waitForKafka(brokers: string[], timeoutMs: number): Promise<void> {
  const ok = await pollUntil(() => kafkaAnswers(brokers, 1_000), { timeoutMs, intervalMs: 250 });
  if (!ok) throw new Error(`Kafka at ${brokers.join(',')} did not answer within ${timeoutMs / 1000} s`);
}

export interface RunningKafka {
  readonly brokers: string[];
  /** The broker's pid when this call started it; undefined when it was already up. */
  readonly startedPid: number | undefined;
}

/**
 * Starts this stack's broker unless it already runs, and returns once a
 * kafkajs admin can list topics. The broker leads its own process group, so a
 * Ctrl-C in the terminal reaches only the supervisor, which stops the apps
 * first and the broker last.
 */
export async function startKafka(stack: Stack, say: (line: string) => void, timeoutMs = 90_000): Promise<RunningKafka> {
  const paths = kafkaPaths(stack);
  const brokers = [`127.0.0.1:${stack.kafkaPort}`];
  const running = livePid(paths.pidFile, MAIN_CLASS);
  if (running !== undefined) {
    await waitForKafka(brokers, timeoutMs);
    return { brokers, startedPid: undefined };
  }
  if (await kafkaAnswers(brokers, 1_000)) {
    throw new Error(`something else already serves Kafka on port ${stack.kafkaPort}; set KAFKA_BROKERS to use it`);
  }
  await ensureKafkaRuntime(say);
  await ensureFormatted(stack);
  ensureDir(path.dirname(paths.logFile));
  ensureDir(stack.runDir);
  const out = openSync(paths.logFile, 'a');
  const child = spawn('java', javaArgs([MAIN_CLASS, paths.configFile]), {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error('could not start java');
  child.unref();
  writePid(paths.pidFile, child.pid);
  const pid = child.pid;
  const started = Date.now();
  const up = await pollUntil(async () => !isAlive(pid) || (await kafkaAnswers(brokers, 1_000)), {
    timeoutMs,
    intervalMs: 200,
  });
  if (!up || !isAlive(pid)) {
    await terminate(pid);
    removeFile(paths.pidFile);
    throw new Error(`Kafka did not start; see ${paths.logFile}:\n${tail(paths.logFile, 15)}`);
  }
  say(`Kafka ready on ${brokers.join(',')} in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${pid})`);
  return { brokers, startedPid: pid };
}

/** Stops this stack's broker (SIGTERM: a controlled shutdown), if it runs. */
export async function stopKafka(stack: Stack): Promise<boolean> {
  const paths = kafkaPaths(stack);
  const pid = livePid(paths.pidFile, MAIN_CLASS);
  removeFile(paths.pidFile);
  if (pid === undefined) return false;
  await terminate(pid, 30_000);
  return true;
}

export function kafkaPid(stack: Stack): number | undefined {
  return livePid(kafkaPaths(stack).pidFile, MAIN_CLASS);
}

export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
