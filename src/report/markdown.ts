// Markdown renderer for pull requests and GitHub job summaries: a heading, one table row per check, matrix grids, the closing line, failures with hints.
import { formatMs } from '../lab/duration.js';
import { cellText, gridCell, matrixGrids, type GridCell } from './matrix-grid.js';
import { closingLine, expectedText, gotText, hiddenLine, markOf, pointsText, scoreText, stageLabel, type RunReport } from './model.js';
import { printable } from '../printable.js';

/**
 * Text made safe for a table cell or list item: control characters escaped (printable), Markdown punctuation and
 * HTML escaped (`|` cannot split a cell, `<` cannot open a tag, `&` cannot start an entity), line breaks as <br>.
 */
export function markdownText(s: string): string {
  return printable(s, '\n').replace(/[\\`*_[\]<>|&]/g, '\\$&').replace(/\n/g, '<br>');
}

/** A name in a code span when it is a plain name (lab names and instance ids are), else as escaped text. */
const code = (s: string): string => (/^[\w.:-]+$/.test(s) ? `\`${s}\`` : markdownText(s));

const textOf = (cell: GridCell | undefined) => (cell ? cellText(cell).text : '');

/** Every matrix of the report as a Markdown table under a heading: rows sources, columns targets. */
export function markdownGrids(report: RunReport): string[] {
  const row = (cells: string[]) => `| ${cells.map(markdownText).join(' | ')} |`;
  return matrixGrids(report).flatMap((g) => [
    `#### ${markdownText(g.name)} (${markdownText(g.stage)})`,
    '',
    row([g.corner, ...g.cols]),
    `|---|${g.cols.map(() => ':---:|').join('')}`,
    ...g.rows.map((r) => row([r, ...g.cols.map((c) => textOf(gridCell(g, r, c)))])),
    '',
  ]);
}

/** The report as GitHub-flavoured Markdown. */
export function renderMarkdown(report: RunReport): string {
  const lines = [`### ${markdownText(report.title)}`, '', `lab ${code(report.lab)}, instance ${code(report.instance)}`, ''];
  const failures: string[] = [];
  const scored = report.score !== undefined;
  if (report.summary.total) {
    if (scored) lines.push('| step | check | from → to | expected | got | time | points | result |', '|---|---|---|---|---|---|---:|:---:|');
    else lines.push('| step | check | from → to | expected | got | time | result |', '|---|---|---|---|---|---|:---:|');
    report.stages.forEach((stage, i) => {
      const step = stageLabel(stage.name, i);
      for (const r of stage.results) {
        const fromTo = `${r.from} → ${r.to === r.target ? r.to : `${r.to} (${r.target})`}`;
        const cells = [step, r.name, fromTo, expectedText(r), gotText(r), formatMs(r.durationMs), ...(scored ? [pointsText(r)] : [])].map(markdownText);
        lines.push(`| ${cells.join(' | ')} | ${markOf(r)} |`);
        if (!r.ok && r.got !== 'skipped') {
          failures.push(`- ✘ **${markdownText(r.name)}** (${markdownText(step)}): ${markdownText(gotText(r))}`);
          if (r.hint) failures.push(`  - hint: ${markdownText(r.hint)}`);
          for (const f of r.findings ?? []) failures.push(`  - found: ${markdownText(f)}`);
        }
      }
    });
    lines.push('');
    lines.push(...markdownGrids(report));
  } else {
    lines.push('No checks ran.', '');
  }
  if (report.score) {
    lines.push('| step | score |', '|---|---:|');
    report.stages.forEach((stage, i) => lines.push(`| ${markdownText(stageLabel(stage.name, i))} | ${scoreText(stage.score ?? { points: 0, max: 0 })} |`));
    lines.push(`| **total** | **${scoreText(report.score)}** |`, '');
  }
  lines.push(`**${closingLine(report.summary, report.score)}**`);
  const hidden = hiddenLine(report);
  if (hidden) lines.push('', `_${hidden}_`);
  if (report.aborted) lines.push('', `> **stopped early:** ${markdownText(report.aborted)}`);
  if (failures.length) lines.push('', '#### Not as expected', '', ...failures);
  return lines.join('\n') + '\n';
}
