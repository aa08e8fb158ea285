export interface GatewayEndpoint {
  podId: string;
  version: string;
  host: string;
  port: number;
}

export interface VersionBackend {
  version: string;
  /** Relative share of traffic (0..100 by convention, any non-negative number works). */
  weight: number;
  /** Ready pods only. */
  endpoints: GatewayEndpoint[];
}

export interface GatewayRoute {
  service: string;
  versions: VersionBackend[];
  /**
   * A failover group's route: its weight-0 versions are the standby targets. When the active
   * target refuses a connection, its other pods usually share the fault (the target crashed as
   * a whole), so the one retry goes to a standby first.
   */
  failover?: boolean;
}

export type RouteLookup = (service: string) => GatewayRoute | undefined;

export type GatewayEventType = 'ejected' | 'returned' | 'retried' | 'upstreamError';

export interface GatewayEvent {
  type: GatewayEventType;
  service: string;
  podId: string;
  version: string;
  message: string;
}
