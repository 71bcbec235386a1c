/** `npm run bench`: the bench pages in headless Chromium (see headless.ts). */
import { runBench } from './headless.js';

runBench(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    console.error(`shadergrad bench: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    process.exit(1);
  },
);
