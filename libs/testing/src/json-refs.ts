type Json = Record<string, unknown>;

/** Every `$ref` in a JSON document (OpenAPI, AsyncAPI), depth first. */
export function jsonRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => jsonRefs(item, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else jsonRefs(value, found);
    }
  }
  return found;
}

/** What a local `#/a/b` reference points at in `document`, or undefined when it dangles. */
export function resolveJsonRef(document: Json, ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Json)[part] : undefined), document);
}
