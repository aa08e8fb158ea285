import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, sourceIp, type Actor } from '../../common/auth/actor.js';
import { presented } from './access.js';
import { refusal } from './auth.guard.js';
import { AuthService } from './auth.service.js';

@ApiTags('users')
@Controller('auth')
export class WhoAmIController {
  constructor(private readonly auth: AuthService) {}

  @Get('whoami')
  @ApiOperation({
    summary: 'Who the credentials sent prove you to be, and whether you may change state',
    description: 'Where reads need no credentials (no users, or API keys only), credentials sent anyway are still checked: wrong ones get a 401, so a sign-in form can tell.',
  })
  @ApiOkResponse({ description: '{ name, kind: anonymous|api-key|user, role: viewer|operator|null, canAct, authRequired: { read, mutate } }' })
  @ApiUnauthorizedResponse({ description: 'credentials missing (where reads need them) or wrong' })
  async whoami(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    let actor: Actor = actorOf(req);
    if (actor.kind === 'anonymous' && presented(req.headers).kind !== 'none') {
      // Reads were open, so the guard did not look at what was sent; a mutation's check proves it.
      const out = await this.auth.authenticate({ headers: req.headers, ip: sourceIp(req), method: req.method, url: req.url }, 'mutate');
      if (!out.ok) throw refusal(out, (n, v) => reply.header(n, v), req.headers);
      actor = out.actor;
    }
    const open = this.auth.open;
    return {
      name: actor.name,
      kind: actor.kind,
      role: actor.role,
      canAct: open || actor.role === 'operator',
      authRequired: { read: this.auth.state.usersExist, mutate: !open },
    };
  }
}
