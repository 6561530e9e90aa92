// `netlab graph LAB`: the lab's topology as of a step, drawn as text, Mermaid or Graphviz DOT.
import { UsageError } from '../errors.js';
import { loadLab } from '../lab/catalog.js';
import { GRAPH_FORMATS, GRAPH_RENDERERS, type GraphFormat } from '../graph/index.js';
import { graphModel, stageByName } from '../graph/model.js';
import type { Command } from './common.js';

export const graphCommand: Command<{ lab: string; format: GraphFormat; step?: string }> = {
  builder: (y) =>
    y
      .positional('lab', { type: 'string', demandOption: true, describe: 'Built-in lab name or path to a lab file' })
      .option('format', { alias: 'f', choices: GRAPH_FORMATS, default: 'ascii' as GraphFormat, describe: 'ascii (for a terminal), mermaid (for Markdown, e.g. GitHub), dot (Graphviz: | dot -Tsvg)' })
      .option('step', { type: 'string', describe: 'Draw the lab as of this step (name or number; 0 is the setup). Default: after the last step' })
      .example('netlab graph host-only', 'Namespaces, interfaces, addresses, wires and NAT points as text')
      .example('netlab graph host-only --step 0 -f mermaid', 'The setup stage as a Mermaid flowchart')
      .example('netlab graph veth-routing -f dot | dot -Tsvg > lab.svg', 'Render with Graphviz') as never,
  handler: async (a) => {
    const lab = await loadLab(a.lab);
    const stage = a.step === undefined ? lab.stages.length - 1 : stageByName(lab, a.step);
    if (stage === undefined) throw new UsageError(`lab ${lab.name} has no step "${a.step}"`, { hint: `steps: ${lab.stages.map((s, i) => `${i} ${s.name}`).join(', ')}` });
    process.stdout.write(GRAPH_RENDERERS[a.format](graphModel(lab, stage)));
    return 0;
  },
};
