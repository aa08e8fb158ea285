import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiForbiddenResponse, ApiSecurity, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';

export const MUTATING = 'grid:mutating';
export const PUBLIC = 'grid:public';

/**
 * Marks a route as changing state: the auth module's global guard then asks for an API key
 * or an operator's Basic auth. The OpenAPI document says so (x-grid-mutating), which is how
 * the access-control e2e test finds every such route, including ones added later.
 */
export const Mutating = () =>
  applyDecorators(
    SetMetadata(MUTATING, true),
    ApiExtension('x-grid-mutating', true),
    ApiSecurity('basic'),
    ApiSecurity('api-key'),
    ApiSecurity('bearer'),
    ApiUnauthorizedResponse({ description: 'no credentials, or wrong ones (only when Grid has users or API keys); carries WWW-Authenticate: Basic realm="Grid"' }),
    ApiForbiddenResponse({ description: 'the user is a viewer; changing state needs an operator or an API key' }),
    ApiTooManyRequestsResponse({ description: 'too many failed logins from this address; see Retry-After' }),
  );

/** Never needs credentials (liveness and Prometheus scrapes), whatever access control is configured. */
export const Public = () => applyDecorators(SetMetadata(PUBLIC, true), ApiExtension('x-grid-public', true));
