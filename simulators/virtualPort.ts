/**
 * The serial end of a virtual device (a pty path from socat): open, go silent and come back
 * (`disconnect(ms)` / `reconnect()`), and reopen by itself when the path vanishes and returns —
 * what an unplugged board does. The device says what to do on each open (`opened`).
 */
import { SerialPort } from 'serialport';

/** Where and how the virtual device's port opens. */
export interface VirtualPortOptions {
  path: string;
  baudRate: number;
  /** Retry period while the path is missing (ms). */
  reopenMs: number;
}

/** A reopening serial port for a virtual device (module header). */
export class VirtualPort {
  private current: SerialPort | undefined;
  private closed = false;
  private offline = false; // disconnect() without a reopen time
  private reopenTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: VirtualPortOptions, private readonly opened: (port: SerialPort) => void) {}

  /** The open port, or undefined while disconnected. */
  get port(): SerialPort | undefined {
    return this.current;
  }

  /** Opens the path; rejects if it cannot be opened. */
  start(): Promise<void> {
    return this.open();
  }

  /** Closes the port (the device goes silent) and reopens it after `ms` (undefined: until `reconnect()`). */
  async disconnect(ms?: number): Promise<void> {
    this.offline = true;
    await this.closePort();
    if (ms !== undefined) this.reopenTimer = setTimeout(() => void this.reconnect(), ms);
  }

  /** Reopens the port after `disconnect()` (retrying every reopenMs until the path is there). */
  async reconnect(): Promise<void> {
    this.offline = false;
    clearTimeout(this.reopenTimer);
    await this.open().catch(() => this.scheduleReopen());
  }

  /** Closes the port for good. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    await this.closePort();
  }

  private async closePort(): Promise<void> {
    const port = this.current;
    this.current = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private async open(): Promise<void> {
    const port = new SerialPort({ path: this.o.path, baudRate: this.o.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    if (this.closed || this.offline) {
      port.close(() => {});
      return;
    }
    this.current = port;
    port.on('close', () => {
      if (this.current !== port) return;
      this.current = undefined; // the path vanished (socat gone): come back when it is there again
      this.scheduleReopen();
    });
    port.on('error', () => {});
    this.opened(port);
  }

  private scheduleReopen(): void {
    if (this.closed || this.offline) return;
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      if (this.closed || this.offline || this.current) return;
      this.open().catch(() => this.scheduleReopen());
    }, this.o.reopenMs);
  }
}
