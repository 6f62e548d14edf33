/**
 * The load generator only ever targets this machine or the compose network:
 * a gateway URL whose host is a loopback address (127.0.0.0/8, ::1,
 * localhost) or a bare compose service name (no dots, e.g. `gateway`). Any
 * other host, a typo'd production URL included, is refused before a single
 * request is sent.
 */
const SERVICE_NAME = /^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$/i;

export function isAllowedHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  // A bare name has no dots; an all-digit one would be an IPv4 address in disguise (URL turns those into dotted form anyway).
  return SERVICE_NAME.test(host) && !/^\d+$/.test(host);
}

/** A URL the load generator may send to (the gateway, a service's /health/ready), checked; throws with the reason. */
export function checkTargetUrl(target: string): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new Error(`load: "${target}" is not a URL (expected e.g. http://127.0.0.1:3000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`load: "${target}" is not an http(s) URL`);
  }
  if (!isAllowedHost(url.hostname)) {
    throw new Error(
      `load: refusing to send requests to "${url.hostname}": only loopback hosts (127.0.0.1, ::1, localhost) ` +
        'or a compose service name without dots (e.g. http://gateway:3000) may be targeted',
    );
  }
  return url;
}
