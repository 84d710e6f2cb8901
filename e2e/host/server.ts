/**
 * The e2e/web host: the same `createAppApi` object the Electron main process
 * binds to ipcMain, exposed to a browser over a loopback WebSocket, plus the
 * built renderer served over HTTP. It holds the main process's powers, so it
 * binds 127.0.0.1 only, checks the Host header (DNS rebinding), and accepts a
 * WebSocket only with this launch's random token and from its own Origin.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { WebSocketServer, type WebSocket } from 'ws';
import { createAppApi, type AppApiOptions } from '../../app/createAppApi';
import { contentTypes } from '../../main/appProtocol';
import { encodeOutputFrame, shimPath, wsPath, type ClientMessage, type ServerMessage } from './protocol';

const here = path.dirname(fileURLToPath(import.meta.url));
export const defaultRendererDir = path.resolve(here, '../../dist/renderer');

/** The same policy as renderer/index.html, sent as a header too. */
export const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'";

export interface HostOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** 0 (default): any free port. */
  port?: number;
  rendererDir?: string;
  log?: (line: string) => void;
  openExternal?: AppApiOptions['openExternal'];
  /** Where the bundled session-manager-plugin lives (default: the repo's resources/). */
  resourcesDir?: string;
}

export interface Host {
  /** The page to open, token included. */
  url: string;
  origin: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export async function startHost(options: HostOptions): Promise<Host> {
  const log = options.log ?? ((line: string) => console.log(line));
  const rendererDir = options.rendererDir ?? defaultRendererDir;
  const indexHtml = await readFile(path.join(rendererDir, 'index.html'), 'utf8').catch(() => {
    throw new Error(`No built renderer in ${rendererDir}. Run npm run build:renderer first.`);
  });
  const shim = await bundleShim();
  const token = randomBytes(24).toString('base64url');
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const api = createAppApi({
    dataDir: options.dataDir,
    env: options.env ?? process.env,
    mode: 'web',
    ...(options.resourcesDir ? { resourcesDir: options.resourcesDir } : {}),
    // The browser showing the app is the user's browser: ask it to open a tab (the shim calls window.open).
    // `createAppApi` has already checked the URL against the external-URL allow-list.
    openExternal:
      options.openExternal ??
      (async (url) => {
        log(`open in your browser: ${url}`);
        for (const client of wss.clients) {
          if (client.readyState === client.OPEN) client.send(JSON.stringify({ type: 'openExternal', url }));
        }
      }),
    log: (message, error) => log(`${message}${error === undefined ? '' : `: ${describe(error)}`}`),
  });

  let origin = '';
  let allowedHosts = new Set<string>();
  const server = createServer((request, response) => {
    serveHttp(request, response).catch((error: unknown) => {
      log(`http ${request.url ?? ''} failed: ${describe(error)}`);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });

  async function serveHttp(request: IncomingMessage, response: ServerResponse) {
    if (!allowedHosts.has(request.headers.host ?? '')) {
      response.writeHead(421, { 'content-type': 'text/plain' }).end('Wrong Host header');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(request.url ?? '/', origin);
    const common = {
      'content-security-policy': contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204, common).end();
      return;
    }
    if (url.pathname === shimPath) {
      response.writeHead(200, { ...common, 'content-type': contentTypes['.js']! }).end(shim);
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      // The shim must run before the renderer's module script, so it goes first in <head>.
      const html = indexHtml.replace('<head>', `<head>\n    <script src="${shimPath}"></script>`);
      response.writeHead(200, { ...common, 'content-type': contentTypes['.html']! }).end(html);
      return;
    }
    const file = path.resolve(rendererDir, `.${decodeURIComponent(url.pathname)}`);
    if (!file.startsWith(rendererDir + path.sep)) {
      response.writeHead(404).end();
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      response.writeHead(404, common).end();
      return;
    }
    const type = contentTypes[path.extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, { ...common, 'content-type': type }).end(body);
  }

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = refuseUpgrade(request);
    if (refusal) {
      log(`refused WebSocket: ${refusal.reason}`);
      socket.end(
        `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => serveSocket(ws));
  });

  function refuseUpgrade(request: IncomingMessage): { status: number; reason: string } | null {
    const url = new URL(request.url ?? '/', origin);
    if (url.pathname !== wsPath) return { status: 404, reason: 'Not Found' };
    if (!allowedHosts.has(request.headers.host ?? '')) return { status: 421, reason: 'Wrong Host' };
    // Only the page this host served may connect: any other site's script would carry its own Origin.
    if (request.headers.origin !== origin) return { status: 403, reason: 'Forbidden Origin' };
    if (!sameSecret(url.searchParams.get('token') ?? '', token)) return { status: 401, reason: 'Bad Token' };
    return null;
  }

  function serveSocket(ws: WebSocket) {
    const send = (message: ServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    // This socket is one connection to the core: its sessions' output comes back to it alone, as binary.
    const connection = api.connect({
      sendEvent: (name, payload) => send({ type: 'event', name, payload }),
      sendOutput: (id, data) => {
        if (ws.readyState === ws.OPEN) ws.send(encodeOutputFrame(id, data), { binary: true });
      },
    });
    ws.on('close', () => connection.close());
    // A bad frame (over maxPayload, invalid UTF-8, bad opcode) is this socket's problem only: `ws` has
    // already sent the close code (1009, 1007, 1002); without a listener the error would end the process.
    ws.on('error', (error) => log(`WebSocket closed after a bad frame: ${error.message}`));
    ws.on('message', (data) => {
      let message: ClientMessage;
      try {
        message = JSON.parse(String(data)) as ClientMessage;
      } catch {
        ws.close(1003, 'not JSON');
        return;
      }
      if (message?.type !== 'call' || typeof message.id !== 'number') {
        ws.close(1003, 'not a call');
        return;
      }
      void connection
        .call(message.name, message.input)
        .then((result) => send({ type: 'result', id: message.id, result }));
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('The host did not get a TCP port');
  const port = address.port;
  origin = `http://127.0.0.1:${port}`;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);

  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    close() {
      closing ??= (async () => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await api.close();
      })();
      return closing;
    },
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function bundleShim(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(here, '../browser/shim.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
