// Biome's formatter wraps code at 120 columns but leaves long strings and comments alone; this keeps
// them readable too. Checks the files git tracks under src/, test/, bench/, scripts/ and bin/.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX = 120;
const files = execFileSync('git', ['ls-files', 'src', 'test', 'bench', 'scripts', 'bin'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|mjs|js)$/.test(f));
const long = [];
for (const file of files) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if ([...line].length > MAX) long.push(`${file}:${i + 1}: ${[...line].length} characters`);
    });
}
if (long.length > 0) {
  process.stderr.write(`${long.join('\n')}\n${long.length} line(s) over ${MAX} characters\n`);
  process.exit(1);
}
