// Suite-wide leak check: after every test file ran, no netlab namespace or state record may remain.
import { readdirSync } from 'node:fs';

function netlabNamespaces(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith('netlab-'));
  } catch {
    return [];
  }
}

export function setup(): () => void {
  const before = new Set(netlabNamespaces());
  return () => {
    const leaked = netlabNamespaces().filter((n) => !before.has(n));
    if (leaked.length) {
      throw new Error(`leak check: the test suite left ${leaked.length} namespace(s) behind: ${leaked.join(', ')}`);
    }
    process.stdout.write(`leak check: no netlab namespaces left behind (${before.size} existed before the suite)\n`);
  };
}
