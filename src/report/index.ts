/**
 * `msnp-probe/report`: turning reports into text and documents, and the checks against an
 * expectation or an earlier run. Pure: nothing here prints or opens a socket.
 */
export { buildDocument, SCHEMA_VERSION } from './render/json.js';
export type { ReportDocument, TargetDocument } from './render/json.js';
export { JsonDocumentWriter } from './render/json-stream.js';
export { compareExpected } from '../verdict/expect.js';
export type { Expectation } from '../verdict/expect.js';
export { parseBaseline, compareBaseline } from '../verdict/baseline.js';
export type { BaselineComparison } from '../verdict/baseline.js';
export { renderTarget, summaryLine, describeStatus } from './render/text.js';
export { FORMATS, FORMAT_NAMES } from './formats/registry.js';
export type { FormatName } from './formats/registry.js';
export { collecting } from './formats/reporter.js';
export type { Reporter, ReporterContext, ReporterFactory, RunEnd } from './formats/reporter.js';
export { csvField, CSV_COLUMNS } from './formats/csv.js';
export { renderMatrixSvg, xmlText, STATUS_COLORS, MAX_SVG_TARGETS } from './render/svg.js';
export type { SvgOptions } from './render/svg.js';
export { renderBadge, reportBadge, badgeMessage, compactVersions } from './render/badge.js';
export { mergeReports, compareTargets } from './merge.js';
export type { MergeInput, MergeResult } from './merge.js';
