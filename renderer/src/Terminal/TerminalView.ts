/**
 * One terminal, owned by a plain class rather than React state (as Teleport
 * Connect and VS Code do): xterm with fit, search, web links, Unicode 11 and
 * the WebGL renderer (falling back to the DOM renderer). React mounts it once
 * into an element and never re-creates it, so scrollback survives screen
 * switches. Output is written with a callback that acknowledges the bytes for
 * flow control; resizes are debounced before they reach the remote shell.
 */
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { WebglAddon } from '@xterm/addon-webgl';
import '@xterm/xterm/css/xterm.css';
import { AckBatcher } from '../../../app/api/flowControl';

export interface TerminalViewOptions {
  fontSize: number;
  scrollback: number;
  /** Keystrokes and pastes, to the session. */
  onInput(data: string): void;
  /** The terminal's size after a (debounced) fit. */
  onResize(cols: number, rows: number): void;
  /** Bytes written to the screen (flow control), in batches. */
  onAcknowledge(bytes: number): void;
  /** Links open only through the app core's allow-list; by default, nowhere. */
  openLink?(url: string): void;
}

const RESIZE_DEBOUNCE_MS = 100;

export class TerminalView {
  readonly terminal: Terminal;
  private readonly fitAddon = new FitAddon();
  private readonly searchAddon = new SearchAddon();
  private readonly acks: AckBatcher;
  private element: HTMLElement | undefined;
  /** xterm's own container, moved from the parking place into the pane on mount. */
  private root: HTMLElement | undefined;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private observer: ResizeObserver | undefined;
  private lastSize = { cols: 0, rows: 0 };
  private disposed = false;
  private readonly parsedListeners = new Set<(data: Uint8Array) => void>();
  /** 'webgl' or 'dom', for tests and diagnostics. */
  renderer: 'webgl' | 'dom' = 'dom';

  constructor(private readonly options: TerminalViewOptions) {
    this.terminal = new Terminal({
      fontSize: options.fontSize,
      scrollback: options.scrollback,
      allowProposedApi: true, // Unicode 11 widths
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      theme: { background: '#101418' },
    });
    this.acks = new AckBatcher((bytes) => options.onAcknowledge(bytes));
    this.terminal.loadAddon(this.fitAddon);
    this.terminal.loadAddon(this.searchAddon);
    this.terminal.loadAddon(new WebLinksAddon((_event, url) => options.openLink?.(url)));
    this.terminal.loadAddon(new Unicode11Addon());
    this.terminal.unicode.activeVersion = '11';
    this.terminal.onData((data) => options.onInput(data));
    this.terminal.attachCustomKeyEventHandler((event) => this.clipboardKeys(event));
  }

  /**
   * Opens the terminal ahead of use, in an element of `parking` (laid out but out of sight): xterm then
   * measures its font and builds its renderer now, in idle time, rather than on the click that shows it.
   */
  prepare(parking: HTMLElement, options: { fit?: boolean } = {}): void {
    if (this.root || this.disposed) return;
    const root = document.createElement('div');
    root.className = 'terminal-root';
    parking.appendChild(root);
    this.root = root;
    this.terminal.open(root);
    try {
      const webgl = new WebglAddon();
      webgl.onContextLoss(() => {
        webgl.dispose();
        this.renderer = 'dom';
      });
      this.terminal.loadAddon(webgl);
      this.renderer = 'webgl';
    } catch {
      this.renderer = 'dom'; // no WebGL2 here: xterm's DOM renderer draws instead
    }
    // Parked at the size of the pane it will be shown in: fitted now (with the renderer it will draw
    // with, whose cell size the fit uses), so that mount finds the size already right (no resize, no
    // reflow) and the session can start at it.
    if (options.fit) this.fitParked();
  }

  /** Shows the terminal in `element` (once; opened there unless prepared already) and keeps it fitted to it. */
  mount(element: HTMLElement): void {
    if (this.element || this.disposed) return;
    this.element = element;
    if (this.root) element.appendChild(this.root);
    else this.prepare(element);
    // The WebGL renderer draws to a canvas: diagnostics and the e2e specs read the buffer through this.
    // `onParsed` lets a benchmark see each chunk as xterm finishes parsing it, instead of reading the
    // whole buffer every frame (which itself starved the parser).
    Object.defineProperty(element, 'roleshellTerminal', {
      value: {
        text: () => this.text(),
        size: () => this.size,
        renderer: () => this.renderer,
        onParsed: (listener: (data: Uint8Array) => void) => {
          this.parsedListeners.add(listener);
          return () => this.parsedListeners.delete(listener);
        },
      },
    });
    this.observer = new ResizeObserver(() => this.scheduleFit());
    this.observer.observe(element);
    this.fitNow();
  }

  /** Session output; acknowledged once xterm has parsed it. */
  write(data: Uint8Array): void {
    if (this.disposed) return;
    this.terminal.write(data, () => {
      this.acks.onWritten(data.length);
      for (const listener of this.parsedListeners) listener(data);
    });
  }

  /** A message from RoleShell itself (not the remote shell), dimmed. */
  notice(text: string): void {
    this.terminal.write(`\r\n\x1b[2m${text}\x1b[0m\r\n`);
  }

  setOptions(options: { fontSize: number; scrollback: number }): void {
    this.terminal.options.fontSize = options.fontSize;
    this.terminal.options.scrollback = options.scrollback;
    this.scheduleFit();
  }

  focus(): void {
    this.terminal.focus();
  }

  findNext(text: string): boolean {
    return this.searchAddon.findNext(text);
  }

  findPrevious(text: string): boolean {
    return this.searchAddon.findPrevious(text);
  }

  /** Fits after the layout settles (tab shown again, window resized). */
  scheduleFit(): void {
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => this.fitNow(), RESIZE_DEBOUNCE_MS);
  }

  /** Everything in the buffer (scrollback included), one line per row. */
  text(): string {
    const buffer = this.terminal.buffer.active;
    const lines: string[] = [];
    for (let index = 0; index < buffer.length; index++) {
      lines.push(buffer.getLine(index)?.translateToString(true) ?? '');
    }
    return lines.join('\n');
  }

  /** The size of the terminal's own box while it is shown in a pane (what a spare is parked at). */
  get shownBoxSize(): { width: number; height: number } | undefined {
    const root = this.root;
    if (!this.element || !root || root.clientWidth === 0 || root.clientHeight === 0) return undefined;
    return { width: root.clientWidth, height: root.clientHeight };
  }

  /** Set once a parked terminal has been fitted to its parking place: the size it will show at. */
  parkedSize: { cols: number; rows: number } | undefined;

  /** Whether the terminal has been fitted to a visible element (its size is then that element's). */
  get fitted(): boolean {
    return this.lastSize.cols > 0;
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.terminal.cols, rows: this.terminal.rows };
  }

  dispose(): void {
    this.disposed = true;
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.observer?.disconnect();
    this.acks.flush();
    this.terminal.dispose();
    this.root?.remove();
  }

  private fitParked(): void {
    const root = this.root;
    if (!root || root.clientWidth === 0 || root.clientHeight === 0) return;
    this.fitAddon.fit();
    this.lastSize = { cols: this.terminal.cols, rows: this.terminal.rows };
    this.parkedSize = this.lastSize;
  }

  private fitNow(): void {
    this.resizeTimer = undefined;
    const element = this.element;
    // Hidden (display: none) has no size; fitting then would shrink the shell to nothing.
    if (!element || this.disposed || element.clientWidth === 0 || element.clientHeight === 0) return;
    this.fitAddon.fit();
    const { cols, rows } = this.terminal;
    if (cols !== this.lastSize.cols || rows !== this.lastSize.rows) {
      this.lastSize = { cols, rows };
      this.options.onResize(cols, rows);
    }
  }

  /** Ctrl+Shift+C copies the selection, Ctrl+Shift+V pastes (Ctrl+C stays the shell's interrupt). */
  private clipboardKeys(event: KeyboardEvent): boolean {
    if (event.type !== 'keydown' || !event.ctrlKey || !event.shiftKey) return true;
    const key = event.key.toLowerCase();
    if (key === 'c') {
      const selection = this.terminal.getSelection();
      if (selection) void navigator.clipboard?.writeText(selection).catch(() => {});
      return false;
    }
    if (key === 'v') {
      void navigator.clipboard
        ?.readText()
        .then((text) => text && this.terminal.paste(text))
        .catch(() => {});
      return false;
    }
    return true;
  }
}
