/** Answers `--help` (or `-h`) with the script's usage and exits, before anything starts. */
export function answerHelp(usage: string): void {
  if (!process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) return;
  console.log(usage.trim());
  process.exit(0);
}
