// The process `netlab grade` starts per submission: `node worker-main.js JOB_JSON`. Exit 0 once the submission's
// result.json is written (whatever its score); otherwise the parent records the submission as not graded.
import { NetlabError } from '../errors.js';
import { gradeOne, type GradeJob } from './worker.js';

const job = JSON.parse(process.argv[2] ?? '{}') as GradeJob;
gradeOne(job).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`netlab grade: ${job.submission?.id}: ${e instanceof NetlabError ? e.message : ((e as Error)?.stack ?? String(e))}\n`);
    process.exit(e instanceof NetlabError ? e.exitCode : 3);
  },
);
