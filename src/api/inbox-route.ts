/** The agent inbox's page and its files at /inbox/ (/ and /inbox redirect there), with a strict content policy. */
import type http from 'node:http';
import type { InboxFiles } from './inbox-files.ts';
import { ApiRefusal } from './request.ts';

export function serveInbox(inbox: InboxFiles, req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiRefusal(405, 'method_not_allowed', 'use GET', { allow: 'GET' });
  if (url.pathname === '/' || url.pathname === '/inbox') {
    res.writeHead(302, { location: '/inbox/' }).end();
    return;
  }
  const file = inbox.get(url.pathname.slice('/inbox/'.length) || 'index.html');
  if (!file) throw new ApiRefusal(404, 'not_found', `no such file: ${url.pathname}`);
  res
    .writeHead(200, {
      'content-type': file.type,
      'cache-control': 'no-cache',
      // The page talks only to this listener and runs only its own scripts.
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
    })
    .end(req.method === 'HEAD' ? undefined : file.body);
}
