import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { requiredName } from '../../common/validation/query.js';
import { MAX_FAULT_DELAY_MS, MAX_FAULT_SECONDS } from '../gateway/faults.js';
import { ChaosService, type FaultInput } from './chaos.service.js';
import { Experiments } from './experiments.js';

const NUMBER_FIELDS = ['abortPercent', 'abortStatus', 'delayMs', 'delayPercent', 'durationSeconds'] as const;
const FIELDS: readonly string[] = ['service', 'version', ...NUMBER_FIELDS];

/**
 * POST /chaos/faults takes its fields as a JSON body or as query parameters (not both: one place
 * says what the experiment is). Numbers may come as JSON numbers or as decimal strings.
 */
function faultInput(body: unknown, query: Record<string, unknown>): FaultInput {
  let fields: Record<string, unknown> = query ?? {};
  if (typeof body === 'string' && body.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw GridException.invalid('body', 'must be a JSON object {service, version?, abortPercent, abortStatus, delayMs, delayPercent, durationSeconds}');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw GridException.invalid('body', 'must be a JSON object');
    if (Object.keys(fields).length > 0) throw GridException.invalid('query', 'give the fields either as a JSON body or as query parameters, not both');
    fields = parsed as Record<string, unknown>;
  }
  for (const k of Object.keys(fields)) if (!FIELDS.includes(k)) throw GridException.invalid(k.slice(0, 40), `is not a fault field (allowed: ${FIELDS.join(', ')})`);
  // A JSON array or object is not a name; requiredName's "given once" speaks of repeated query parameters.
  if (fields.service !== undefined && typeof fields.service !== 'string' && fields !== query) throw GridException.invalid('service', 'must be a string such as "api"');
  const input: FaultInput = { service: requiredName(fields.service, 'service') };
  const version = fields.version;
  if (version !== undefined && version !== '') {
    if (typeof version !== 'string') throw GridException.invalid('version', 'must be a string such as "v2"');
    input.version = version;
  }
  for (const k of NUMBER_FIELDS) {
    const v = fields[k];
    if (v === undefined || v === '') continue;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^[-+]?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw GridException.invalid(k, `must be a number (got ${JSON.stringify(v).slice(0, 40)})`);
    input[k] = n;
  }
  return input;
}

@ApiTags('chaos')
@Controller('chaos')
export class FaultsController {
  constructor(
    private readonly chaos: ChaosService,
    private readonly experiments: Experiments,
  ) {}

  @Post('faults')
  @HttpCode(201)
  @Mutating()
  @ApiOperation({
    summary: "Inject faults at the gateway into a service's requests (or one version's): abort a share with a status, delay a share",
    description:
      `As Envoy's fault filter, with exact shares: of every 100 requests the rule sees, exactly abortPercent are answered abortStatus by the gateway (the pod is not called; header x-grid-fault: abort) and delayPercent are held delayMs before they are proxied (x-grid-fault: delay). ` +
      `Faulted requests are counted apart (/traffic faults, grid_gateway_faults_total); aborted ones are left out of canary analysis and outlier ejection, delayed ones stay in (the pod's answer is real) with their latency measured after the injected delay. The experiment ends on its own after durationSeconds (default 60, at most ${MAX_FAULT_SECONDS}). Fields as a JSON body or as query parameters.`,
  })
  @ApiBody({
    required: false,
    schema: {
      type: 'object',
      required: ['service'],
      properties: {
        service: { type: 'string' },
        version: { type: 'string', description: 'only requests picked to this version' },
        abortPercent: { type: 'number', description: '0..100 (two decimals at most), default 0' },
        abortStatus: { type: 'integer', description: '400..599, default 503' },
        delayMs: { type: 'integer', description: `1..${MAX_FAULT_DELAY_MS} when delayPercent > 0` },
        delayPercent: { type: 'number', description: '0..100, default 0' },
        durationSeconds: { type: 'integer', description: `1..${MAX_FAULT_SECONDS}, default 60` },
      },
    },
  })
  @ApiCreatedResponse({ description: 'the experiment: { id, kind: faults, service, version (null when service-wide), params, startedAt, endsAt, origin }' })
  @ApiBadRequestResponse({ description: 'a bad field, named (give abortPercent or delayPercent above 0)' })
  @ApiNotFoundResponse({ description: 'no such service, or no such version of it (the message lists the versions it has)' })
  @ApiConflictResponse({ description: 'a running fault experiment already covers these requests (the same version, or either one service-wide); the message names it and how to stop it' })
  start(@Body() body: unknown, @Query() query: Record<string, unknown>) {
    const e = this.chaos.startFaults(faultInput(body, query), 'api');
    // Always present, as documented: null says service-wide.
    return { ...e, version: e.version ?? null };
  }

  @Get('faults')
  @ApiOperation({ summary: 'Running fault experiments, with their time left and the requests each has aborted and delayed so far' })
  @ApiOkResponse({ description: '{ faults: [{ id, service, version?, params, secondsLeft, counts: { seen, aborted, delayed } }] }' })
  listFaults() {
    return { faults: this.chaos.listFaults() };
  }

  @Delete('faults/:id')
  @Mutating()
  @ApiOperation({ summary: 'End a fault experiment now: the gateway proxies every request as it is again' })
  @ApiNotFoundResponse({ description: 'no fault experiment runs with that id' })
  stopFaults(@Param('id') id: string) {
    return this.chaos.stopExperiment(id, 'faults');
  }

  @Get('experiments')
  @ApiOperation({ summary: 'Every running chaos experiment (faults, paused pods, …) with its time left' })
  @ApiQuery({ name: 'service', required: false })
  @ApiOkResponse({ description: '{ experiments: [{ id, kind, service, version?, pods?, params, startedAt, endsAt, secondsLeft, origin }] }' })
  listExperiments(@Query('service') service?: string) {
    return { experiments: this.experiments.list(service === undefined ? {} : { service: requiredName(service, 'service') }) };
  }

  @Delete('experiments/:id')
  @Mutating()
  @ApiOperation({ summary: 'End any running chaos experiment now (its undo runs: faults lifted, paused pods resumed)' })
  @ApiNotFoundResponse({ description: 'no experiment runs with that id' })
  stopExperiment(@Param('id') id: string) {
    return this.chaos.stopExperiment(id);
  }
}
