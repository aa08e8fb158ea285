import { Body, Controller, Delete, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiBody, ApiConsumes, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiPayloadTooLargeResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { boolParam, requiredName } from '../../common/validation/query.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { SpecsService } from './specs.service.js';

const EXAMPLE = `apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  replicas: 3
  image: local://demo@v1
`;

/** `imported` only when something was: a body of Grid documents gets the answer it always got. */
function answer<T extends { imported: unknown[] }>(r: T): Omit<T, 'imported'> | T {
  if (r.imported.length > 0) return r;
  const { imported: _, ...rest } = r;
  return rest;
}

@ApiTags('specs')
@Controller()
export class SpecsController {
  constructor(private readonly specs: SpecsService) {}

  @Post('apply')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({
    summary: 'Apply service specs (YAML or JSON)',
    description:
      'Accepts application/yaml (one or more documents separated by ---) or application/json (an object or an array) of `kind: Service` and `kind: FailoverGroup` documents, which share one namespace. Kubernetes objects (apps/v1 Deployment, apps/v1 StatefulSet (a mounted claim template → spec.storage.persistent), argoproj.io/v1alpha1 Rollout, v1 Service, autoscaling/v2 HorizontalPodAutoscaler) and Compose files (a top-level `services:` mapping) in the same body are imported first: each becomes the Grid Service spec a user would write by hand, and `imported` says what each object became and which of its fields Grid ignored (objects of other kinds are ignored whole). Every document is validated first; if any is invalid (or an imported object has a field Grid cannot run, such as an exec probe) nothing is stored. A document identical to the current spec is reported as `unchanged`.',
  })
  @ApiConsumes('application/yaml', 'application/json', 'text/plain')
  @ApiBody({ schema: { type: 'string', example: EXAMPLE } })
  @ApiOkResponse({ description: '{ applied: [{ service, result: created|configured|unchanged, generation, revision, version } | { failoverGroup, result, generation }], imported: [{ object: "Deployment/api", became?: "service/api", ignored: [field paths | "the whole object"], index, runsOnHost?: [command], storage?: "what a StatefulSet claim became and what its program must read" }] (imported: only when the body held Kubernetes objects or Compose files) }' })
  @ApiBadRequestResponse({ description: '{ statusCode, error, message, errors: [{ path, message }] } naming each bad field' })
  @ApiPayloadTooLargeResponse({ description: 'body over 1 MiB' })
  @ApiQuery({ name: 'dryRun', required: false, description: '`All` (as Kubernetes spells it) or `true`: validate and report what each document would change (`changes: [{path, from, to}]`, and `live`: the stored `{apiVersion, kind, metadata, spec}` or null when it would be created, `merged`: the manifest the apply would store, defaults filled, for `gridctl diff`), store nothing' })
  async apply(@Body() body: unknown, @Query() query: Record<string, unknown>, @Headers('content-type') contentType?: string) {
    // A mistyped ?dryrun= must not quietly apply for real.
    for (const k of Object.keys(query ?? {})) if (k !== 'dryRun') throw GridException.invalid(k.slice(0, 40), 'is not a parameter of /apply (only dryRun=All)');
    const dryRun = query?.dryRun;
    if (dryRun !== undefined) {
      if (typeof dryRun !== 'string') throw GridException.invalid('dryRun', 'must be given once: All or true');
      if (dryRun !== 'All' && dryRun !== 'true') throw GridException.invalid('dryRun', `must be All or true (got "${dryRun.slice(0, 40)}")`);
      return answer({ dryRun: true, ...(await this.specs.dryRunDocuments(body ?? '', contentType)) });
    }
    return answer(await this.specs.applyDocuments(body ?? '', contentType, 'apply'));
  }

  @Delete('services/:name')
  @Mutating()
  @ApiOperation({
    summary: 'Delete a service; its pods are drained and stopped',
    description: 'The data directories of a persistent service (spec.storage.persistent, `<data dir>/pods/<name>-<ordinal>`) are kept, as Kubernetes keeps a StatefulSet\'s PersistentVolumeClaims, so applying the service again finds its data; with `purge=true` they are removed once its pods are gone (a `volumes.purged` event says which). `purge=true` on a name no longer applied removes the data directories it left behind (GET /volumes lists them): 202.',
  })
  @ApiQuery({ name: 'purge', required: false, description: '`true` or `false` (default): also remove the service\'s persistent data directories once its pods are gone' })
  @ApiOkResponse({ description: '{ deleted: name, purge: boolean, volumes: ["pods/<name>-<ordinal>", …] } (the directories kept, or removed with purge)' })
  @ApiAcceptedResponse({ description: '{ deleted: null, purge: true, volumes: [...] }: no such service, but the data it left behind is removed once none of its pods is left' })
  @ApiBadRequestResponse({ description: 'a bad name, a purge that is not true or false, or an unknown query parameter' })
  @ApiNotFoundResponse({ description: 'no such service (and, with purge=true, no data directories of that name either)' })
  async remove(@Param('name') name: string, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    for (const k of Object.keys(query ?? {})) if (k !== 'purge') throw GridException.invalid(k.slice(0, 40), 'is not a parameter of DELETE /services/:name (only purge)');
    const purge = boolParam(query?.purge, 'purge', false);
    const result = await this.specs.delete(requiredName(name, 'name'), purge);
    if (result.deleted === null) reply.status(202);
    return result;
  }

  @Delete('failovergroups/:name')
  @Mutating()
  @ApiOperation({ summary: 'Delete a failover group; /gateway/<name>/ stops routing and its health checks stop (its target services stay)' })
  @ApiNotFoundResponse({ description: 'no such failover group' })
  async removeGroup(@Param('name') name: string) {
    await this.specs.deleteGroup(requiredName(name, 'name'));
    return { deleted: name };
  }
}
