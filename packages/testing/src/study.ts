/** The study's five Lambda init durations in ms (docs/study.md), as a summary of its REPORT lines gives them. */
export const STUDY_INIT_DURATION_MS = {
  count: 5,
  min: 57.41,
  mean: 59.93,
  p50: 58.41,
  p95: 65.87,
  p99: 65.87,
  max: 65.87,
} as const;
