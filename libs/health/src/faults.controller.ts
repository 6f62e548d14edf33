import { timingSafeEqual } from 'node:crypto';
import {
  BadRequestException,
  Body,
  type CanActivate,
  Controller,
  Delete,
  type ExecutionContext,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Put,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { FaultInjector, type Faults } from './fault-injection';

export const CHAOS_TOKEN = Symbol('CHAOS_TOKEN');

/** Bearer $CHAOS_TOKEN, compared in constant time. */
@Injectable()
export class ChaosTokenGuard implements CanActivate {
  constructor(@Inject(CHAOS_TOKEN) private readonly token: string) {}

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    const expected = Buffer.from(this.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new UnauthorizedException('a valid chaos token is required');
    }
    return true;
  }
}

/** PUT/GET/DELETE /admin/faults; registered only when CHAOS_ENABLED=true. */
@Controller('admin/faults')
@UseGuards(ChaosTokenGuard)
export class FaultsController {
  constructor(private readonly faults: FaultInjector) {}

  @Get()
  current(): Faults {
    return this.faults.current();
  }

  @Put()
  replace(@Body() body: unknown): Faults {
    const parsed = this.faults.schema.safeParse(body);
    if (!parsed.success) {
      throw new BadRequestException(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
    }
    this.faults.replace(parsed.data);
    return this.faults.current();
  }

  @Delete()
  @HttpCode(204)
  clear(): void {
    this.faults.clear();
  }
}
