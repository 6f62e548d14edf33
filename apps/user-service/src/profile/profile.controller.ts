import { Controller, Get, Param } from '@nestjs/common';
import { problemException } from '../http/problems';
import { type Profile, ProfileHandler } from './profile.handler';

/** The gateway serves `GET /api/v1/me` from here, with the userId of the token it verified. */
@Controller('users')
export class ProfileController {
  constructor(private readonly handler: ProfileHandler) {}

  @Get(':userId')
  async profile(@Param('userId') userId: string): Promise<Profile> {
    const profile = await this.handler.find(userId);
    if (!profile) throw problemException(404, 'user not found', 'no user has this id');
    return profile;
  }
}
