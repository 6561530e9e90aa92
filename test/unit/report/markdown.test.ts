// Markdown renderer: heading, the check table, the closing line, failures with hints.
import { describe, expect, it } from 'vitest';
import { markdownText, renderMarkdown } from '../../../src/report/markdown.js';
import { closingLine } from '../../../src/report/model.js';
import { fixtureReport } from './fixture.js';

describe('markdown', () => {
  const report = fixtureReport();
  const md = renderMarkdown(report);
  const lines = md.split('\n');

  it('has a heading with the lab title, and the lab and instance', () => {
    expect(lines[0]).toBe('### Two networks joined by a router');
    expect(md).toContain('lab `veth-routing`, instance `veth-routing-cf83`');
  });

  it('has the table: header, alignment row and one row per check', () => {
    const start = lines.indexOf('| step | check | from → to | expected | got | time | result |');
    expect(start).toBeGreaterThan(0);
    expect(lines[start + 1]).toBe('|---|---|---|---|---|---|:---:|');
    expect(lines.slice(start + 2, start + 5)).toEqual([
      '| setup | ns1 reaches its end of the cable (host v1\\_r) | ns1 → host:v1\\_r (10.10.10.1) | pass | pass: reply, TTL 64 | 10 ms | ✔ |',
      '| 1. route-one-way | ns1 → ns2 replies \\| #1 | ns1 → 10.10.20.2 | pass | fail: no reply in time, "silent"<br>second line | 508 ms | ✘ |',
      '| 1. route-one-way | ns2 → ns1 works too | ns2 → ns1:v1 (10.10.10.2) | pass | error: spawn ping ENOENT | 2 ms | ! |',
    ]);
    expect(lines[start + 5]).toBe('');
    // Every row has the header's 7 cells (escaped pipes do not split a cell).
    for (const row of lines.slice(start, start + 5)) expect(row.split(/(?<!\\)\|/).length - 2).toBe(7);
  });

  it('has the closing line and the failures with their hints and findings', () => {
    expect(md).toContain(`**${closingLine(report.summary)}**`);
    expect(md).toContain(
      '- ✘ **ns1 → ns2 replies \\| #1** (1. route-one-way): fail: no reply in time, "silent"<br>second line\n' +
        '  - hint: ns2 has no route back, add one: ip route add 10.10.10.0/24 via 10.10.20.1\n' +
        '  - found: ns2 has no route back to 10.10.10.2 (ns1)\n' +
        '  - found: host dropped 2 packet(s) at: counter packets 2 bytes 168 comment "policy drop"\n' +
        '- ✘ **ns2 → ns1 works too** (1. route-one-way): error: spawn ping ENOENT\n',
    );
  });

  it('says why an aborted run stopped', () => {
    expect(renderMarkdown(fixtureReport({ aborted: 'interrupted by SIGINT' }))).toContain('> **stopped early:** interrupted by SIGINT');
  });

  it('escapes what would break a cell or become markup', () => {
    expect(markdownText('a|b *c* <script> [x](y) `z` \\ & _u_')).toBe('a\\|b \\*c\\* \\<script\\> \\[x\\](y) \\`z\\` \\\\ \\& \\_u\\_');
  });
});
