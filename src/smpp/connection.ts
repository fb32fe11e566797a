/**
 * Opening SMPP connections: a client socket to an SMSC (plain or TLS) and a listening server for
 * the simulator and tests. Each accepted or opened socket becomes its own `SmppSession`.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SmppSession, type SessionOptions } from './session.ts';
import { ParleyError } from '../lib/errors.ts';
import { silentLogger } from '../lib/logger.ts';

export interface ConnectOptions {
  host: string;
  port: number;
  /** true for TLS with the system's CAs, or node's TLS options (ca, servername, rejectUnauthorized...). */
  tls?: boolean | tls.ConnectionOptions;
  connectTimeoutMs?: number;
}

/** Connects and resolves with an open (not yet bound) client session. */
export function connectSession(options: ConnectOptions, session: Omit<SessionOptions, 'mode'>): Promise<SmppSession> {
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket: net.Socket = options.tls
      ? tls.connect({ host: options.host, port: options.port, ...(options.tls === true ? {} : options.tls) })
      : net.connect({ host: options.host, port: options.port });
    const readyEvent = options.tls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ParleyError('connect_timeout', `no connection to ${options.host}:${options.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new ParleyError('connect_failed', `cannot connect to ${options.host}:${options.port}: ${err.message}`, { cause: err }));
    };
    socket.once('error', onError);
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(new SmppSession(socket, { ...session, mode: 'client' }));
    });
  });
}

export interface ServerOptions {
  session: Omit<SessionOptions, 'mode'>;
  /** Called for every accepted connection, with its session already reading. */
  onSession?(session: SmppSession): void;
  tls?: tls.TlsOptions;
}

export class SmppServer {
  readonly sessions = new Set<SmppSession>();
  private readonly server: net.Server;

  constructor(private readonly options: ServerOptions) {
    const accept = (socket: net.Socket): void => {
      const session = new SmppSession(socket, { ...this.options.session, mode: 'server' });
      this.sessions.add(session);
      // closed only ever resolves (session.ts), and deleting from a Set cannot throw.
      // eslint-disable-next-line @typescript-eslint/no-floating-promises -- see above
      void session.closed.then(() => this.sessions.delete(session));
      try {
        this.options.onSession?.(session);
      } catch (err) {
        (this.options.session.logger ?? silentLogger).error({ err }, 'smpp server onSession failed');
      }
    };
    this.server = options.tls ? tls.createServer(options.tls, accept) : net.createServer(accept);
  }

  listen(port = 0, host = '127.0.0.1'): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** Unbinds every session (at most `unbindTimeoutMs`), then stops listening. */
  async close(unbindTimeoutMs = 1000): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.unbind(unbindTimeoutMs)));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
