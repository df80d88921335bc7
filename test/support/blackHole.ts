// A black hole on 127.0.0.1: it accepts every TCP connection, reads (and drops) what it is sent,
// and never answers a byte — an AWS endpoint, a database or a proxy that hangs. Tests count what
// it accepted, and hear of each connection as it comes.

import { createServer, type Server, type Socket } from "node:net";

export class BlackHole {
  /** Connections accepted (tests reset it). */
  accepted = 0;
  /** Sockets it holds now. */
  readonly held = new Set<Socket>();
  /** Called on each connection it accepts. */
  onAccept: (socket: Socket) => void = () => undefined;
  private readonly server: Server;
  private port = 0;

  constructor() {
    this.server = createServer((socket) => {
      this.accepted += 1;
      this.held.add(socket);
      socket.on("close", () => this.held.delete(socket));
      socket.on("error", () => undefined);
      // Read and drop, so a client that gives up is seen closing; never a byte back.
      socket.resume();
      this.onAccept(socket);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get listeningPort(): number {
    return this.port;
  }

  async close(): Promise<void> {
    for (const socket of this.held) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
