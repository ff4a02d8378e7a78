/** What statsExport writes for one day of an app with WeCom and Official Account settings, sorted. */
export const REPORT_DAY_FILES = [
  'chat-records.csv',
  'chat-records.jsonl',
  'corp-statistics.csv',
  'corp-statistics.jsonl',
  'manifest.json',
  'report.html',
  'servicer-statistics.csv',
  'servicer-statistics.jsonl',
];
