import { createServer, type Server } from 'node:http';
import { registry } from './metrics';

/**
 * `/metrics` of a worker-only process. Prometheus scrapes every process (its pull model):
 * counters stay in the process that counts them, nothing is written to Redis on the hot path.
 */
export function serveMetrics(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry
      .metrics()
      .then((body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body))
      .catch((err: Error) => res.writeHead(500).end(err.message));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
