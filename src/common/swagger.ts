import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Grid')
    .setDescription('A single-node desired-state service orchestrator: apply YAML specs, watch pods converge, route traffic, roll out safely.')
    .setVersion('0.1.0')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  // The gateway is served by a raw Fastify hook (for speed), so Nest cannot see it; describe it by hand.
  const gatewayOp = (alias: boolean) => ({
    tags: ['gateway'],
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
