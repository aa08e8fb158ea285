import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { AlertsService } from './alerts.service.js';

@ApiTags('alerts')
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @ApiOperation({
    summary: 'Alert state',
    description: 'Each service and failover group with its confirmed state (UP/DOWN), a pending confirmation and when it fires, what holds a notification back (startup grace, cooldown); the configured channels (never credentials); recent notifications and deliveries with attempts and errors.',
  })
  @ApiOkResponse({ description: 'settings, channels, subjects, notifications, deliveries' })
  status() {
    return this.alerts.status();
  }

  @Post('test')
  @HttpCode(202)
  @Mutating()
  @ApiOperation({ summary: 'Send a test alert through every configured channel', description: 'Queued at once; GET /alerts shows how each delivery went.' })
  @ApiAcceptedResponse({ description: '{queued: [...deliveries]}' })
  @ApiConflictResponse({ description: 'no alert channel is configured' })
  test() {
    return this.alerts.test();
  }
}
