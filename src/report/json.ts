// JSON renderer: the RunReport as is (schemaVersion tells readers which shape they have).
import type { RunReport } from './model.js';

export function renderJson(report: RunReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
