/**
 * The baseline page for the flood benchmark: the same TerminalView the app
 * uses (same xterm, addons and options), fed straight from a local pty over a
 * loopback WebSocket, with no session, broker or flow control in between.
 */
import { TerminalView } from '../../renderer/src/Terminal/TerminalView';

const element = document.getElementById('terminal')!;
const view = new TerminalView({
  fontSize: 13,
  scrollback: 5000,
  onInput: () => {},
  onResize: () => {},
  onAcknowledge: () => {},
});
view.mount(element);
const socket = new WebSocket(`ws://${location.host}/pty`);
socket.binaryType = 'arraybuffer';
socket.addEventListener('message', (event) => view.write(new Uint8Array(event.data as ArrayBuffer)));
