// The line protocol of netlab's helper processes (the sandbox launcher, the prober): one JSON object per line. A line
// that is not one is dropped, never obeyed.

/** The object a line holds, or undefined for anything else (not JSON, an array, a number, null). */
export function jsonObject(line: string): Record<string, unknown> | undefined {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return undefined;
  }
  return typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Record<string, unknown>) : undefined;
}
