import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RuntimeService } from './runtime.service.js';

@ApiTags('pods')
@Controller('runtimes')
export class RuntimesController {
  constructor(private readonly runtime: RuntimeService) {}

  @Get()
  @ApiOperation({ summary: "This Grid's runtimes (sim, process, docker) and whether each can run pods now" })
  @ApiOkResponse({ description: '[{ name, available, detail }]; detail names the Docker socket and why it does not answer' })
  list() {
    return this.runtime.runtimes();
  }
}
