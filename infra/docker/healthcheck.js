// The image's healthcheck (Dockerfile HEALTHCHECK, docker-compose.yml): exits 0
// when the app named by APP answers 200 on /health/ready, else 1. The app
// listens on <APP>_PORT (ORDER_SERVICE_PORT for order-service) or, unset, on
// its default port (README, "Ports").
'use strict';

const DEFAULT_PORTS = {
  gateway: 3000,
  'user-service': 3001,
  'order-service': 3002,
  'inventory-service': 3003,
  'payment-service': 3004,
  'payment-provider': 3005,
};

/** @param {Record<string, string | undefined>} env */
function readyUrl(env) {
  const app = env.APP ?? '';
  const port = env[`${app.toUpperCase().replaceAll('-', '_')}_PORT`] || DEFAULT_PORTS[app];
  if (!port) throw new Error(`APP=${app} is not an app of this stack`);
  return `http://127.0.0.1:${port}/health/ready`;
}

if (require.main === module) {
  fetch(readyUrl(process.env), { signal: AbortSignal.timeout(2_500) }).then(
    (response) => process.exit(response.ok ? 0 : 1),
    () => process.exit(1),
  );
}

module.exports = { DEFAULT_PORTS, readyUrl };
