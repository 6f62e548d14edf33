import { Controller, Get, Header } from '@nestjs/common';
import { openApiDocument } from './openapi';

/** GET /docs (and /docs/openapi.json): the OpenAPI 3.1 document, built once from the zod schemas. */
@Controller('docs')
export class OpenApiController {
  private readonly document = openApiDocument();

  @Get()
  @Header('cache-control', 'public, max-age=300')
  docs(): Record<string, unknown> {
    return this.document;
  }

  @Get('openapi.json')
  @Header('cache-control', 'public, max-age=300')
  file(): Record<string, unknown> {
    return this.document;
  }
}
