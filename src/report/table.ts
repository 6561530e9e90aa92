// Table renderer (default): one row per check — step, check, from → to, expected, got, time, ✔/✘ — then any matrix grids, hints and the closing line.
import Table from 'cli-table3';
import { formatMs } from '../lab/duration.js';
import { bold, dim, paintMark, red, yellow } from './color.js';
import { renderGrids } from './matrix.js';
import { closingLine, expectedText, gotText, stageLabel, type RunReport } from './model.js';

export function renderTable(report: RunReport, color: boolean): string {
  const table = new Table({
    head: ['step', 'check', 'from → to', 'expected', 'got', 'time', ''],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [], compact: true },
  });
  const failedHints: string[] = [];
  report.stages.forEach((stage, i) => {
    for (const r of stage.results) {
      const mark = paintMark(color, r);
      const got = gotText(r);
      table.push([
        stageLabel(stage.name, i),
        r.name,
        `${r.from} → ${r.to === r.target ? r.to : `${r.to} (${r.target})`}`,
        expectedText(r),
        r.ok ? got : red(color, got),
        formatMs(r.durationMs) + (r.attempts ? ` (${r.attempts}×)` : ''),
        mark,
      ]);
      if (!r.ok) {
        const found = (r.findings ?? []).map((f) => `\n  found: ${f}`).join('');
        failedHints.push(`${red(color, '✘')} ${r.name}: ${r.detail}${r.hint ? `\n  hint: ${r.hint}` : ''}${found}`);
      }
    }
  });
  const lines = [bold(color, `${report.title}`) + dim(color, `  (lab ${report.lab}, instance ${report.instance})`)];
  if (report.summary.total) lines.push(table.toString());
  const grids = renderGrids(report, color, false);
  if (grids) lines.push('', grids);
  if (failedHints.length) lines.push('', ...failedHints);
  if (report.aborted) lines.push('', yellow(color, `stopped early: ${report.aborted}`));
  lines.push('', closingLine(report.summary));
  return lines.join('\n') + '\n';
}
