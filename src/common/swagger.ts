import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Grid')
    .setVersion('0.1.0')
    .setDescription(
      'A single-node desired-state service orchestrator: apply YAML specs, watch pods converge, route traffic, roll out safely.\n\n' +
        'Access control: routes marked `x-grid-mutating` need an API key (X-API-Key or Authorization: Bearer) or an operator\'s Basic auth whenever Grid has users or API keys. ' +
        'Once any user exists, every other route needs a viewer, an operator or a key too, except /healthz, /metrics and gateway traffic.',
    )
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'a Grid user (roles viewer, operator)' }, 'basic')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'a named API key (GRID_API_KEYS); acts as an operator' }, 'api-key')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'the same API key as a bearer token' }, 'bearer')
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  // Reads take any credentials (or none, until a user exists); public routes never need any.
  doc.security = [{ basic: [] }, { 'api-key': [] }, { bearer: [] }, {}];
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item) as { 'x-grid-public'?: boolean; security?: unknown[] }[]) if (op?.['x-grid-public']) op.security = [];
  }
  // The gateway is served by a raw Fastify hook (for speed), so Nest cannot see it; describe it by hand.
  const gatewayOp = (alias: boolean) => ({
    tags: ['gateway'],
    security: [],
    summary: alias ? 'Alias of /gateway/{service}/{path}' : 'Reverse proxy to the Ready pods of a service (any method)',
    description:
      'Weighted version pick (rollout weights), then round robin among Ready pods. Sets X-Forwarded-For/-Proto/-Host and X-Request-Id; answers with X-Grid-Pod and X-Grid-Version. `<service>--preview` reaches a blue/green preview.',
    parameters: [
      { name: 'service', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'the rest of the URL, passed to the pod' },
    ],
    responses: {
      '200': { description: "the pod's response, streamed" },
      '404': { description: 'no such service' },
      '502': { description: 'the pod failed to answer (after one retry for idempotent requests)' },
      '503': { description: 'no Ready pod' },
      '504': { description: 'the pod did not answer in time' },
    },
  });
  const ops = (alias: boolean) => Object.fromEntries(['get', 'post', 'put', 'patch', 'delete', 'head', 'options'].map((m) => [m, { ...gatewayOp(alias), operationId: `gateway_${alias ? 'alias_' : ''}${m}` }]));
  doc.paths['/gateway/{service}/{path}'] = ops(false);
  doc.paths['/proxy/{service}/{path}'] = ops(true);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });
}
