/** Loopback ports for servers that tests and benchmarks start. */
import net from 'node:net';

/** A port nobody listens on right now (for a server whose listen takes no port 0, or another process). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
