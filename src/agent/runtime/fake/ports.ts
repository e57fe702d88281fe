/**
 * Host ports of one fake host, allocated the way Docker's port allocator does: a static port is taken or
 * refused ("port is already allocated"), a dynamic one is the next free port of the ephemeral range,
 * handed out round-robin so a port just released is not reused at once.
 */
import type { PortBinding, PortMappingSpec } from '../runtime.js';

const FIRST = 32768;
const LAST = 60999;

export class PortAllocator {
  private readonly used = new Set<string>();
  private readonly next = { tcp: FIRST, udp: FIRST };

  /** Bindings for all mappings, or the error message when one cannot be had (nothing is then held). */
  bind(mappings: readonly PortMappingSpec[]): PortBinding[] | string {
    const out: PortBinding[] = [];
    for (const m of mappings) {
      const port = m.hostPort ? m.hostPort : this.dynamic(m.protocol);
      if (port === undefined || this.used.has(`${m.protocol}/${port}`)) {
        this.release(out);
        return port === undefined ? 'no free host port in the ephemeral range' : `Bind for 0.0.0.0:${port} failed: port is already allocated`;
      }
      this.used.add(`${m.protocol}/${port}`);
      out.push({ containerPort: m.containerPort, hostPort: port, protocol: m.protocol, hostIp: '0.0.0.0' });
    }
    return out;
  }

  release(bindings: readonly PortBinding[]): void {
    for (const b of bindings) this.used.delete(`${b.protocol}/${b.hostPort}`);
  }

  private dynamic(protocol: 'tcp' | 'udp'): number | undefined {
    for (let i = 0; i <= LAST - FIRST; i++) {
      const port = this.next[protocol];
      this.next[protocol] = port >= LAST ? FIRST : port + 1;
      if (!this.used.has(`${protocol}/${port}`)) return port;
    }
    return undefined;
  }
}
