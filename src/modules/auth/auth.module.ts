import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { UserEntity } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';
import { WhoAmIController } from './whoami.controller.js';

/** Access control: API keys and users, one global guard for every Nest route, /users, /auth/whoami. AuthService is exported for the routes Nest does not serve (/docs). */
@Module({
  imports: [TypeOrmModule.forFeature([UserEntity])],
  providers: [UsersService, AuthService, { provide: APP_GUARD, useClass: AuthGuard }],
  controllers: [UsersController, WhoAmIController],
  exports: [AuthService],
})
export class AuthModule {}
