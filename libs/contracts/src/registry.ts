import type { AnyMessageDefinition, Upcaster } from './message';

/**
 * (type, version) → definition, for every version ever published, plus the
 * upcasters that bring an old payload up to the current version. It checks
 * itself when built: one current version per type, every older version joined
 * to the next by an upcaster, one topic per type.
 */
export interface MessageRegistry<Current extends AnyMessageDefinition = AnyMessageDefinition> {
  /** The definition a message of this type and version was published with. */
  definition(type: string, version: number): AnyMessageDefinition | undefined;
  /** The version producers publish today. */
  current(type: string): Current | undefined;
  /** Applies the upcasters from `fromVersion` to the current version (the payload must be valid for `fromVersion`). */
  upcast(type: string, fromVersion: number, payload: unknown): unknown;
  /** Every registered definition, current ones first, in registration order. */
  readonly definitions: readonly AnyMessageDefinition[];
  readonly currentDefinitions: readonly Current[];
}

export interface RegistryOptions<Current extends AnyMessageDefinition> {
  readonly current: readonly Current[];
  readonly superseded?: readonly AnyMessageDefinition[];
  readonly upcasters?: readonly Upcaster[];
}

const id = (type: string, version: number) => `${type}@v${version}`;

export function createRegistry<Current extends AnyMessageDefinition>(
  options: RegistryOptions<Current>,
): MessageRegistry<Current> {
  const byId = new Map<string, AnyMessageDefinition>();
  const currentByType = new Map<string, Current>();
  const upcasterFrom = new Map<string, Upcaster>();
  const superseded = options.superseded ?? [];

  for (const definition of [...options.current, ...superseded]) {
    const key = id(definition.type, definition.version);
    if (byId.has(key)) throw new Error(`${key} is registered twice`);
    byId.set(key, definition);
  }
  for (const definition of options.current) {
    if (currentByType.has(definition.type)) throw new Error(`${definition.type} has two current versions`);
    currentByType.set(definition.type, definition);
  }
  for (const upcaster of options.upcasters ?? []) {
    const key = id(upcaster.type, upcaster.fromVersion);
    if (!byId.has(key) || !byId.has(id(upcaster.type, upcaster.toVersion))) {
      throw new Error(`the upcaster from ${key} joins a version that is not registered`);
    }
    if (upcasterFrom.has(key)) throw new Error(`${key} has two upcasters`);
    upcasterFrom.set(key, upcaster);
  }
  for (const definition of superseded) {
    const current = currentByType.get(definition.type);
    if (!current)
      throw new Error(`${id(definition.type, definition.version)} is superseded but has no current version`);
    if (definition.version >= current.version) {
      throw new Error(`${id(definition.type, definition.version)} is superseded by an older version`);
    }
    if (definition.topic.name !== current.topic.name) {
      throw new Error(`${definition.type} moved topics between versions; a new type is needed instead`);
    }
    for (let version = definition.version; version < current.version; version++) {
      if (!upcasterFrom.has(id(definition.type, version))) {
        throw new Error(`${id(definition.type, version)} has no upcaster to v${version + 1}`);
      }
    }
  }

  return {
    definition: (type, version) => byId.get(id(type, version)),
    current: (type) => currentByType.get(type),
    upcast(type, fromVersion, payload) {
      const current = currentByType.get(type);
      if (!current) throw new Error(`${type} is not registered`);
      let value = payload;
      for (let version = fromVersion; version < current.version; version++) {
        const upcaster = upcasterFrom.get(id(type, version));
        if (!upcaster) throw new Error(`${id(type, version)} has no upcaster`);
        value = upcaster.up(value);
      }
      return value;
    },
    definitions: [...options.current, ...superseded],
    currentDefinitions: [...options.current],
  };
}
