import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { GridException } from '../../common/errors/grid.exception.js';
import { optionalName } from '../../common/validation/query.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from './specs.service.js';

/** The data directories of persistent services, as `kubectl get pvc` lists claims: here because whether their service still exists is desired state. */
@ApiTags('specs')
@Controller()
export class VolumesController {
  constructor(
    private readonly runtime: RuntimeService,
    private readonly specs: SpecsService,
  ) {}

  @Get('volumes')
  @ApiOperation({
    summary: 'The data directories of persistent services (spec.storage.persistent)',
    description: 'Each directory under `<data dir>/pods`, named `<service>-<ordinal>`: its size, and the pod holding its ordinal (`Bound`) or none (`Released`: scaled down, or its service deleted; `serviceExists` tells which). Released data of a deleted service is removed with `DELETE /services/<service>?purge=true`.',
  })
  @ApiQuery({ name: 'service', required: false, description: 'only this service\'s directories' })
  @ApiOkResponse({ description: '{ volumes: [{ name, path, service, ordinal, bytes, status: Bound|Released, pod, serviceExists, createdAt }] }' })
  @ApiBadRequestResponse({ description: 'a service that is not a DNS label, or an unknown query parameter' })
  async list(@Query() query: Record<string, unknown>) {
    for (const k of Object.keys(query ?? {})) if (k !== 'service') throw GridException.invalid(k.slice(0, 40), 'is not a parameter of GET /volumes (only service)');
    const service = optionalName(query?.service, 'service');
    const all = await this.runtime.volumes((s) => this.specs.get(s) !== undefined);
    return { volumes: service === undefined ? all : all.filter((v) => v.service === service) };
  }
}
