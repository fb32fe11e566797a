/** The HTTP API: requests by operation and status, their latency, event followers. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function apiMetrics(registry: Registry) {
  return {
    apiRequests: new Counter({
        name: 'parley_api_requests_total',
        help: 'HTTP API requests by operation (the OpenAPI operationId, or "inbox", "unknown") and status code',
        labelNames: ['operation', 'code'] as const,
        registers: [registry],
      }),
    apiRequestLatency: new Histogram({
        name: 'parley_api_request_seconds',
        help: 'Time to answer an HTTP API request (event streams: until the first byte)',
        labelNames: ['operation'] as const,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
    apiEventClients: new Gauge({
        name: 'parley_api_event_clients',
        help: 'Clients following GET /v1/events right now',
        registers: [registry],
      }),
  };
}

export type ApiMetrics = ReturnType<typeof apiMetrics>;
