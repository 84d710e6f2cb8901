/**
 * The session host's message loop: one backend per session, output batched
 * and flow-controlled before it crosses to the core. Runs in its own process
 * (hostMain.ts); tests may drive it in-process through a transport pair.
 */
import { FlowController, OutputBatcher } from '../../api/flowControl';
import { openBackend, type SessionBackend } from './backends';
import { traceHop } from '../connectTrace';
import { coreToHost, type CoreToHost, type HostToCore, type HostTransport } from './protocol';

interface HostedSession {
  backend: SessionBackend | undefined;
  flow: FlowController;
  batcher: OutputBatcher;
  closed: boolean;
  /** A resize that came while the backend was still opening (dialling, handshaking): applied once it is open. */
  sizeWhileOpening?: { cols: number; rows: number };
}

export function runSessionHost(transport: HostTransport, onShutdown: () => void = () => {}): void {
  const sessions = new Map<string, HostedSession>();
  const send = (message: HostToCore) => transport.send(message);

  function finish(id: string, reason: string, failed: boolean) {
    const session = sessions.get(id);
    if (!session || session.closed) return;
    session.closed = true;
    session.batcher.flush();
    session.batcher.dispose();
    sessions.delete(id);
    send({ type: 'closed', id, reason, failed });
  }

  async function open(message: Extract<CoreToHost, { type: 'open' }>) {
    traceHop('host: open received');
    let first = true;
    if (sessions.has(message.id)) return;
    const session: HostedSession = {
      backend: undefined,
      closed: false,
      flow: new FlowController({
        pause: () => session.backend?.pauseOutput(),
        resume: () => session.backend?.resumeOutput(),
      }),
      batcher: new OutputBatcher((data) => {
        if (first) traceHop('host: first output sent to core');
        first = false;
        session.flow.sent(data.length);
        send({
          type: 'output',
          id: message.id,
          data: new Uint8Array(data.buffer, data.byteOffset, data.length),
        });
      }),
    };
    sessions.set(message.id, session);
    try {
      const backend = await openBackend(message, {
        output: (data) => {
          if (!session.closed) session.batcher.push(data);
        },
        disconnected: (reason) => {
          if (!session.closed) {
            session.batcher.flush();
            send({ type: 'disconnected', id: message.id, reason });
          }
        },
        closed: (reason, failed) => finish(message.id, reason, failed),
      });
      if (session.closed) {
        backend.close(); // closed while opening
        return;
      }
      session.backend = backend;
      traceHop('host: backend open');
      if (session.flow.isPaused) backend.pauseOutput();
      const size = session.sizeWhileOpening;
      if (size && (size.cols !== message.cols || size.rows !== message.rows))
        backend.resize(size.cols, size.rows);
      send({ type: 'opened', id: message.id, ...(backend.pid ? { pid: backend.pid } : {}) });
    } catch (error) {
      finish(message.id, error instanceof Error ? error.message : 'The session could not start.', true);
    }
  }

  function handle(message: CoreToHost) {
    if (message.type === 'shutdown') {
      for (const [id, session] of sessions) {
        session.backend?.close();
        finish(id, 'RoleShell is quitting.', false);
      }
      onShutdown();
      return;
    }
    if (message.type === 'open') {
      void open(message);
      return;
    }
    const session = sessions.get(message.id);
    if (!session) return;
    const backend = session.backend;
    switch (message.type) {
      case 'input':
        backend?.write(message.data);
        break;
      case 'resize':
        if (backend) backend.resize(message.cols, message.rows);
        else session.sizeWhileOpening = { cols: message.cols, rows: message.rows };
        break;
      case 'ack':
        session.flow.acknowledge(message.bytes);
        break;
      case 'reattach':
        session.flow.reset();
        break;
      case 'resume':
        if (!backend?.resume) break;
        backend.resume(message.tokenValue).then(
          () => send({ type: 'resumed', id: message.id }),
          (error: unknown) =>
            send({
              type: 'resumeFailed',
              id: message.id,
              message: error instanceof Error ? error.message : 'the redial failed',
            }),
        );
        break;
      case 'close':
        backend?.close();
        finish(message.id, 'The session was closed.', false);
        break;
    }
  }

  transport.onMessage((raw) => {
    const parsed = coreToHost.safeParse(raw);
    if (!parsed.success) return; // not ours: dropped, never half-applied
    try {
      handle(parsed.data);
    } catch (error) {
      // A backend that throws (input after its end …) ends only its own session.
      const id = 'id' in parsed.data ? parsed.data.id : undefined;
      if (id) finish(id, error instanceof Error ? error.message : 'The session failed.', true);
    }
  });
  send({ type: 'ready' });
}
