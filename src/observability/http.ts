/**
 * The operations endpoint (README "Metrics, dashboards and alerts"): /metrics, /healthz, /readyz.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
/** What the endpoint needs of the metrics: the exposition text and its content type. */
export interface MetricsSource {
  scrape(): Promise<string>;
  readonly contentType: string;
}

export interface Readiness {
  /** Names of what is not ready (empty when ready). */
  check(): Promise<string[]>;
}

export class OpsServer {
  private readonly server: http.Server;

  constructor(metrics: MetricsSource, readiness: Readiness) {
    this.server = http.createServer((req, res) => {
      // Cannot reject: every failure is answered below (a 500, or the connection ended).
      // eslint-disable-next-line @typescript-eslint/no-floating-promises -- see above
      void (async () => {
        try {
          if (req.method !== 'GET') {
            res.writeHead(405, { allow: 'GET' }).end();
          } else if (req.url === '/metrics') {
            const body = await metrics.scrape();
            res.writeHead(200, { 'content-type': metrics.contentType }).end(body);
          } else if (req.url === '/healthz') {
            res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
          } else if (req.url === '/readyz') {
            const problems = await readiness.check();
            res
              .writeHead(problems.length === 0 ? 200 : 503, { 'content-type': 'text/plain' })
              .end(problems.length === 0 ? 'ready\n' : `not ready:\n${problems.map((p) => `- ${p}`).join('\n')}\n`);
          } else {
            res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
          }
        } catch (err) {
          if (res.headersSent) res.destroy();
          else res.writeHead(500, { 'content-type': 'text/plain' }).end(`error: ${(err as Error).message}\n`);
        }
      })();
    });
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
