import { Body, Controller, Get, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConsumes, ApiExtension, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Document, visit } from 'yaml';
import { GridErrorCode, GridException } from '../../../common/errors/grid.exception.js';
import { requiredName } from '../../../common/validation/query.js';
import { SpecsService } from '../specs.service.js';
import type { FailoverGroupManifest, ServiceManifest } from '../spec.types.js';
import { DEFAULT_PROMETHEUS, exportManifests, type ExportOptions, type ExportResult } from './export.js';

const PARAMS = ['format', 'service', 'namespace', 'prometheus', 'image', 'output'];
const IMAGE_REF = /^[a-z0-9][a-z0-9._/:@-]*$/i;

/** A parameter given as a repeated key or a comma-separated list (names and image references hold no commas). */
function list(value: unknown): string[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.flatMap((v) => String(v).split(',')).filter((v) => v !== '');
}

function single(query: Record<string, unknown>, key: string): string | undefined {
  const v = query[key];
  if (Array.isArray(v)) throw GridException.invalid(key, `must be given once (got ${v.length} values)`);
  return v === undefined || v === '' ? undefined : String(v);
}

interface Request {
  options: ExportOptions;
  services: string[];
  output: 'yaml' | 'json';
}

function readQuery(query: Record<string, unknown>): Request {
  for (const k of Object.keys(query ?? {})) if (!PARAMS.includes(k)) throw GridException.invalid(k.slice(0, 40), `is not a parameter of /export (${PARAMS.join(', ')})`);
  const format = single(query, 'format') ?? 'kubernetes';
  if (format !== 'kubernetes') throw GridException.invalid('format', `must be kubernetes (got "${format.slice(0, 40)}")`);
  const output = single(query, 'output') ?? 'yaml';
  if (output !== 'yaml' && output !== 'json') throw GridException.invalid('output', `must be yaml or json (got "${output.slice(0, 40)}")`);
  const namespace = single(query, 'namespace');
  if (namespace !== undefined) requiredName(namespace, 'namespace');
  const prometheus = single(query, 'prometheus') ?? DEFAULT_PROMETHEUS;
  // All of it a URL, printable ASCII: it is written into every AnalysisTemplate.
  if (!/^https?:\/\/[^\s/]+[\x21-\x7e]*$/.test(prometheus) || prometheus.length > 2048 || !URL.canParse(prometheus)) {
    throw GridException.invalid('prometheus', `must be an http(s) URL such as ${DEFAULT_PROMETHEUS} (got "${prometheus.slice(0, 80).replace(/[^\x20-\x7e]/g, '?')}")`);
  }
  const images: Record<string, string> = {};
  for (const pair of list(query.image)) {
    const eq = pair.indexOf('=');
    const service = pair.slice(0, eq);
    const image = pair.slice(eq + 1);
    if (eq < 1 || !IMAGE_REF.test(image) || image.length > 512) throw GridException.invalid('image', `must be SERVICE=IMAGE such as api=registry.example/api:1.2 (got "${pair.slice(0, 80)}")`);
    requiredName(service, 'image');
    images[service] = image;
  }
  const services = list(query.service).map((s) => requiredName(s, 'service'));
  return { options: { namespace, prometheusAddress: prometheus, images }, services, output };
}

/** RFC 7234 warn-code 299 ("miscellaneous persistent warning"), as kube-apiserver sends them; quoted-string safe, Latin-1 only. */
function warningHeader(text: string): string {
  return `299 - "${text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`;
}

@ApiTags('specs')
@Controller('export')
export class ExportController {
  constructor(private readonly specs: SpecsService) {}

  @Get()
  @ApiOperation({
    summary: 'Export stored specs as Kubernetes and Argo Rollouts objects',
    description:
      'Rolling → apps/v1 Deployment; `storage.persistent` → apps/v1 StatefulSet (a 1Gi `data` claim per pod at /data, GRID_POD_DATA=/data, + a headless `<name>-headless` Service); BlueGreen/Canary → argoproj.io/v1alpha1 Rollout (+ `<name>-preview` Service, + `<name>-analysis` AnalysisTemplate for Canary analysis); a v1 Service per service; autoscale → autoscaling/v2 HorizontalPodAutoscaler; a FailoverGroup → a Service for its first service target. What has no equivalent comes as `Warning: 299` headers (and `# warning:` lines in YAML). For `kubectl apply -f -`.',
  })
  @ApiProduces('application/yaml', 'application/json')
  @ApiQuery({ name: 'format', required: false, description: 'kubernetes (the default and only format)' })
  @ApiQuery({ name: 'service', required: false, description: 'only these services or failover groups (repeat or comma-separate); default all' })
  @ApiQuery({ name: 'namespace', required: false, description: 'metadata.namespace of every object' })
  @ApiQuery({ name: 'prometheus', required: false, description: `the Prometheus the AnalysisTemplates query (default ${DEFAULT_PROMETHEUS})` })
  @ApiQuery({ name: 'image', required: false, description: 'SERVICE=IMAGE: the container image of a process (command) service, or one replacing its image; repeat or comma-separate' })
  @ApiQuery({ name: 'output', required: false, description: 'yaml (multi-document, the default) or json (a v1 List)' })
  @ApiOkResponse({ description: 'the objects, as YAML documents or `{apiVersion: v1, kind: List, items}`' })
  @ApiBadRequestResponse({ description: 'an unknown parameter, or a service that cannot be exported (a process service without an image, a simulated local:// image), naming it in `errors`' })
  @ApiNotFoundResponse({ description: 'a `service` that is neither a service nor a failover group' })
  exportStored(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply): string | object {
    const req = readQuery(query);
    const pick = (name: string) => req.services.length === 0 || req.services.includes(name);
    for (const name of req.services) if (!this.specs.get(name) && !this.specs.group(name)) throw GridException.notFound('service', name);
    const records = this.specs.list().filter((r) => pick(r.name));
    const manifests = records.map((r) => r.manifest);
    const groups = this.specs.groups().filter((g) => pick(g.name)).map((g) => g.manifest);
    const versions = Object.fromEntries(records.map((r) => [r.name, r.version]));
    // A stored service is named by its name, not by its place in Grid's list.
    return this.answer(manifests, groups, { ...req.options, versions }, req.output, reply, (i) => manifests[i].metadata.name);
  }

  @Post()
  @HttpCode(200)
  // A POST only because the documents are a body: it changes nothing, so viewers may and it is not audited.
  @ApiExtension('x-grid-read', true)
  @ApiOperation({
    summary: 'Export the Grid spec documents in the body (validated as /apply does, stored nowhere)',
    description: 'The same objects and parameters as GET /export (except service), for specs that are not applied to this Grid.',
  })
  @ApiConsumes('application/yaml', 'application/json', 'text/plain')
  @ApiBody({ schema: { type: 'string', example: 'apiVersion: v1\nkind: Service\nmetadata: { name: api }\nspec: { image: registry.example/api:1.2 }\n' } })
  @ApiProduces('application/yaml', 'application/json')
  @ApiQuery({ name: 'namespace', required: false })
  @ApiQuery({ name: 'prometheus', required: false })
  @ApiQuery({ name: 'image', required: false })
  @ApiQuery({ name: 'output', required: false })
  @ApiOkResponse({ description: 'the objects, as YAML documents or a v1 List' })
  @ApiBadRequestResponse({ description: 'an invalid document or parameter, or a service that cannot be exported, naming the field' })
  exportBody(@Body() body: unknown, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply, @Headers('content-type') contentType?: string): string | object {
    const req = readQuery(query);
    if (req.services.length > 0) throw GridException.invalid('service', 'is for GET /export; POST exports every document of the body');
    const parsed = this.specs.validate(body ?? '', contentType);
    return this.answer(parsed.manifests, parsed.groups, req.options, req.output, reply);
  }

  private answer(
    manifests: ServiceManifest[],
    groups: FailoverGroupManifest[],
    options: ExportOptions,
    output: 'yaml' | 'json',
    reply: FastifyReply,
    nameOf?: (index: number) => string,
  ): string | object {
    const r: ExportResult = exportManifests(manifests, groups, options);
    if (r.errors.length > 0) {
      const errors = nameOf ? r.errors.map((e) => ({ ...e, path: e.path.replace(/^\[(\d+)\]/, (_, i: string) => `service/${nameOf(Number(i))}`) })) : r.errors;
      throw new GridException(GridErrorCode.Validation, `${errors[0].path}: ${errors[0].message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, errors);
    }
    // At most MAX_WARNING_HEADERS: a client's header limit (Node's is 16 KiB) must not cost it the answer.
    if (r.warnings.length > 0) {
      const shown = r.warnings.slice(0, MAX_WARNING_HEADERS);
      if (r.warnings.length > shown.length) shown.push(`and ${r.warnings.length - shown.length} more warnings (the YAML output lists every one as a # warning: line)`);
      reply.header('warning', shown.map(warningHeader));
    }
    if (output === 'json') return { apiVersion: 'v1', kind: 'List', items: r.objects };
    reply.header('content-type', 'application/yaml; charset=utf-8');
    // Comments are ASCII: YAML parsers (Go's among them) break lines at \x85, U+2028 and U+2029 too.
    const head = r.warnings.map((w) => `# warning: ${w.replace(/[^\x20-\x7e]/g, '?')}\n`).join('');
    return head + r.objects.map(kubernetesYaml).join('---\n');
  }
}

const MAX_WARNING_HEADERS = 20;

/** Characters a YAML parser may read as a line break or that YAML cannot print raw: \x80-\x9f (\x85 NEL), U+2028, U+2029. */
const UNSAFE_IN_YAML = /[\u0080-\u009f\u2028\u2029]/;

/**
 * One object as YAML for kubectl: YAML 1.1 (what Kubernetes' parser speaks, so `yes`, `on` and
 * `1:20` come quoted, never as a bool or a sexagesimal number), no aliases, and every string that
 * holds a line-breaking or unprintable character double-quoted with the character escaped, so a
 * value can never become another field or another object.
 */
export function kubernetesYaml(o: unknown): string {
  const doc = new Document(o, { version: '1.1', aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && UNSAFE_IN_YAML.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  const text = doc.toString({ lineWidth: 0 });
  // Only double-quoted scalars can hold these now; there, an escape is the character itself.
  return text.replace(/[\u0080-\u009f\u2028\u2029]/g, (ch) => (ch === '\u2028' ? '\\L' : ch === '\u2029' ? '\\P' : ch === '\u0085' ? '\\N' : `\\x${ch.charCodeAt(0).toString(16)}`));
}
