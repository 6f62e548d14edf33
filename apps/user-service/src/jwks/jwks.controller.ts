import { Controller, Get, Header } from '@nestjs/common';
import type { JWK } from 'jose';

/** The public keys that verify this service's tokens (RFC 7517 JWK Set). */
export class Jwks {
  constructor(readonly keys: readonly JWK[]) {}
}

@Controller('.well-known')
export class JwksController {
  constructor(private readonly keySet: Jwks) {}

  @Get('jwks.json')
  @Header('cache-control', 'public, max-age=300')
  jwks(): { keys: readonly JWK[] } {
    return { keys: this.keySet.keys };
  }
}
