import { runLoad } from './load';
import { checkTargetUrl, isAllowedHost } from './target';

describe('the hosts the load generator may target', () => {
  it.each([
    '127.0.0.1',
    '127.0.0.53',
    'localhost',
    'LOCALHOST',
    '[::1]',
    'gateway',
    'payment-service',
    'order_service',
  ])('accepts %s', (host) => expect(isAllowedHost(host)).toBe(true));

  it.each([
    'example.com',
    'shop.example.com',
    'api.internal',
    '10.0.0.5',
    '192.168.1.10',
    '0.0.0.0',
    '[::ffff:7f00:1]',
    '[2001:db8::1]',
    'localhost.',
    'gateway.local',
    '-gateway',
    '',
  ])('refuses %s', (host) => expect(isAllowedHost(host)).toBe(false));

  it('checks whole URLs, with the reason', () => {
    expect(checkTargetUrl('http://127.0.0.1:3000').port).toBe('3000');
    expect(checkTargetUrl('http://gateway:3000/').hostname).toBe('gateway');
    // Integer and hex IPv4 forms are normalised by the URL parser before the check.
    expect(checkTargetUrl('http://2130706433:3000').hostname).toBe('127.0.0.1');
    expect(() => checkTargetUrl('https://shop.example.com')).toThrow(
      'load: refusing to send requests to "shop.example.com": only loopback hosts',
    );
    expect(() => checkTargetUrl('http://167772165:3000')).toThrow('refusing to send requests to "10.0.0.5"');
    expect(() => checkTargetUrl('ftp://127.0.0.1')).toThrow('not an http(s) URL');
    expect(() => checkTargetUrl('localhost:3000')).toThrow('not an http(s) URL');
    expect(() => checkTargetUrl('127.0.0.1:3000')).toThrow('is not a URL');
    expect(() => checkTargetUrl('not a url')).toThrow('is not a URL');
  });

  it('runLoad refuses a remote gateway before sending anything', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    try {
      await expect(
        runLoad({ gatewayUrl: 'https://shop.example.com', mode: 'open', ratePerSecond: 1, durationSeconds: 1 }),
      ).rejects.toThrow('refusing to send requests to "shop.example.com"');
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });
});
