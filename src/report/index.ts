/**
 * `msnp-probe/report`: turning reports into text and documents, and the checks against an
 * expectation or an earlier run. Pure: nothing here prints or opens a socket.
 */
export { buildDocument, SCHEMA_VERSION } from './json.js';
export type { ReportDocument, TargetDocument } from './json.js';
export { JsonDocumentWriter } from './json-stream.js';
export { compareExpected } from './expect.js';
export type { Expectation } from './expect.js';
export { parseBaseline, compareBaseline } from './baseline.js';
export type { BaselineComparison } from './baseline.js';
export { renderTarget, summaryLine, describeStatus } from './text.js';
export { FORMATS, FORMAT_NAMES } from './formats.js';
export type { FormatName } from './formats.js';
export { collecting } from './reporter.js';
export type { Reporter, ReporterContext, ReporterFactory, RunEnd } from './reporter.js';
export { csvField, CSV_COLUMNS } from './format-csv.js';
export { renderMatrixSvg, xmlText, STATUS_COLORS, MAX_SVG_TARGETS } from './svg.js';
export type { SvgOptions } from './svg.js';
export { renderBadge, reportBadge, badgeMessage, compactVersions } from './badge.js';
export { mergeReports, compareTargets } from './merge.js';
export type { MergeInput, MergeResult } from './merge.js';
