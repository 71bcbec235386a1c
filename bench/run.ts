/** `npm run bench`: the bench pages in headless Chromium (see headless.ts). */
import { runBench } from './headless.js';
import { SettingError } from './pages/settings.js';

runBench(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    // A bad flag is its message alone; anything else keeps its kind (DataNotFoundError, BenchPageError…).
    const message = error instanceof SettingError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`shadergrad bench: ${message}`);
    process.exit(1);
  },
);
