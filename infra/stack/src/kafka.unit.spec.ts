import { clusterId } from './kafka.ts';

describe('clusterId', () => {
  it('is a 16-byte base64url id that kafka-storage cannot mistake for an option', () => {
    // One random id in 64 starts with '-'; ten thousand draws all but surely include such a draw.
    const ids = Array.from({ length: 10_000 }, () => clusterId());
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
