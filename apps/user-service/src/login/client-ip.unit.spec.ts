import { clientIp } from './client-ip';

describe('clientIp', () => {
  it('takes the address the gateway saw: the last x-forwarded-for entry', () => {
    expect(clientIp({ headers: { 'x-forwarded-for': '203.0.113.7' }, ip: '127.0.0.1' })).toBe('203.0.113.7');
    expect(clientIp({ headers: { 'x-forwarded-for': '1.2.3.4, 203.0.113.7' }, ip: '127.0.0.1' })).toBe('203.0.113.7');
    expect(clientIp({ headers: { 'x-forwarded-for': ['1.2.3.4', '203.0.113.7 '] }, ip: '127.0.0.1' })).toBe(
      '203.0.113.7',
    );
  });

  it('falls back to the socket address without the header', () => {
    expect(clientIp({ headers: {}, ip: '127.0.0.1' })).toBe('127.0.0.1');
    expect(clientIp({ headers: { 'x-forwarded-for': ' , ' }, ip: '127.0.0.1' })).toBe('127.0.0.1');
  });
});
