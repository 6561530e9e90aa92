// What the schema pass left out of a lab file, by the names it would have defined: the rules stay silent about
// those, so a problem that only follows from one already reported (a link naming a left-out node) is not reported.
import type { Path } from './source.js';
import type { Ref } from './types.js';

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const at = (v: unknown, p: Path): unknown =>
  p.reduce<unknown>((x, s) => (x !== null && typeof x === 'object' && Object.hasOwn(x, s) ? (x as Record<string | number, unknown>)[s] : undefined), v);

/** Names defined by left-out items. Empty (`Dropped.none`) when the file was schema-valid. */
export class Dropped {
  static readonly none = new Dropped();
  private readonly nodes = new Set<string>();
  private readonly ifaces = new Set<string>();
  /** Every interface is in doubt: a whole list of links or devices that was no list went. */
  private allIfaces = false;
  private readonly addressesOf = new Set<string>();
  private readonly servicesOf = new Set<string>();
  /** A port forward, a DHCP server, or a link or device (which joins segments) went. */
  private forwards = false;
  private dhcp = false;
  private segments = false;

  /** The names the items at `paths` of the written `data` define. */
  static from(paths: readonly Path[], data: unknown): Dropped {
    const d = new Dropped();
    for (const p of paths) d.add(p, data);
    return d;
  }

  /** A node that was left out: references to it are not reported. */
  node(name: string): boolean {
    return this.nodes.has(name);
  }

  /** An interface whose link, device or entry was left out. */
  iface(ref: Ref): boolean {
    return this.allIfaces || this.nodes.has(ref.node) || this.ifaces.has(`${ref.node}:${ref.ifname}`);
  }

  /** Some static address of this node may have been left out. */
  addresses(node: string): boolean {
    return this.nodes.has(node) || this.addressesOf.has(node) || this.allIfaces;
  }

  /** Any static address of the lab may have been left out. */
  anyAddress(): boolean {
    return this.nodes.size > 0 || this.addressesOf.size > 0 || this.allIfaces;
  }

  /** Which DHCP server serves a segment may have changed (a server, or a link or device joining segments, went). */
  dhcpServing(): boolean {
    return this.dhcp || this.segments || this.allIfaces;
  }

  /** A service of this node, or a port forward that might lead to one, may have been left out. */
  services(node: string): boolean {
    return this.nodes.has(node) || this.servicesOf.has(node) || this.forwards;
  }

  private add(p: Path, data: unknown): void {
    const [top, i, sub, name] = p;
    if (top === 'nodes' && typeof i === 'string') {
      if (p.length === 2) this.nodes.add(i);
      else this.nodeConfig(i, p.slice(2));
    } else if (top === 'steps') {
      // A whole step, its nodes map, or one node's config in it.
      const steps = p.length === 1 ? at(data, ['steps']) : [at(data, ['steps', i as number])];
      if (p.length <= 3) {
        for (const step of Array.isArray(steps) ? steps : []) {
          const nodes = isPlainObject(step) ? step['nodes'] : undefined;
          if (isPlainObject(nodes)) for (const n of Object.keys(nodes)) this.nodeConfig(n, []);
        }
      } else if (sub === 'nodes' && typeof name === 'string') this.nodeConfig(name, p.slice(4));
    } else if (top === 'links' || top === 'bridges' || top === 'devices') {
      // Any part of a link or device: its interfaces and addresses go with it (the item goes whole or not at all).
      const items = p.length === 1 ? at(data, [top]) : [at(data, [top, i as number])];
      if (!Array.isArray(items)) this.allIfaces = true;
      for (const item of Array.isArray(items) ? items : []) this.item(top, item);
      this.segments = true;
    }
  }

  /** A link, bridge or device as written. */
  private item(top: 'links' | 'bridges' | 'devices', v: unknown): void {
    if (!isPlainObject(v)) return;
    if (top === 'links') {
      const ends = Array.isArray(v['endpoints']) ? v['endpoints'] : [];
      for (const e of ends) {
        const text = typeof e === 'string' ? e : isPlainObject(e) && Object.hasOwn(e, 'at') && typeof e['at'] === 'string' ? e['at'] : undefined;
        const m = text === undefined ? null : /^([^:\s]+):([^:\s]+)$/.exec(text);
        if (m) this.iface_(m[1] as string, m[2] as string, isPlainObject(e) && e['address'] !== undefined);
      }
    } else if (typeof v['node'] === 'string' && typeof v['name'] === 'string') this.iface_(v['node'], v['name'], v['address'] !== undefined);
    else this.allIfaces = true;
  }

  private iface_(node: string, ifname: string, addressed: boolean): void {
    this.ifaces.add(`${node}:${ifname}`);
    if (addressed) this.addressesOf.add(node);
  }

  /** Part (`rest`) of one node's config, top-level or in a step. */
  private nodeConfig(node: string, rest: Path): void {
    const what = rest[0];
    if (what === undefined || what === 'interfaces') {
      this.addressesOf.add(node);
      if (typeof rest[1] === 'string') this.ifaces.add(`${node}:${rest[1]}`);
    }
    if (what === undefined || what === 'services') this.servicesOf.add(node);
    if (what === undefined || what === 'forwards') this.forwards = true;
    if (what === undefined || what === 'dhcp_servers') this.dhcp = true;
  }
}
