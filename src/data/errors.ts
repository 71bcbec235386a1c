/**
 * Typed errors for everything that reads data. Each names where the problem is
 * (file, zip member, byte offset) and what was expected against what was found,
 * so a bad download is diagnosed from the message alone.
 */

export interface DataErrorDetails {
  /** Path (or name) of the file being read. */
  file?: string;
  /** Member inside a zip archive, e.g. `x_train.npy`. */
  member?: string;
  /** Byte offset inside the member (or the file when there is no member). */
  offset?: number;
  expected?: string;
  found?: string;
}

export class DataError extends Error {
  readonly problem: string;
  readonly file?: string;
  readonly member?: string;
  readonly offset?: number;
  readonly expected?: string;
  readonly found?: string;

  constructor(problem: string, details: DataErrorDetails = {}) {
    super(formatDataError(problem, details));
    this.name = new.target.name;
    this.problem = problem;
    Object.assign(this, details);
  }
}

/** The zip container is broken or uses a feature we refuse (ZIP64, encryption). */
export class ZipFormatError extends DataError {}
/** A `.npy` member has a bad header, dtype, shape or length. */
export class NpyFormatError extends DataError {}
/** A pickle stream is malformed or asks for something outside the safe subset. */
export class PickleError extends DataError {}
/** The arrays parse but their content is not an IMDB dataset (labels, lengths, counts). */
export class DatasetError extends DataError {}
/** A named data file is not a regular file Node can read whole (a directory, a device, over 2 GiB). */
export class DataFileError extends DataError {}
/** No data file was found in any of the places looked at. */
export class DataNotFoundError extends DataError {}

/** Longest excerpt of one untrusted value (a name, a header, a found value) quoted in a message. */
export const MAX_EXCERPT = 200;
/** Messages are one line of at most this many characters, whatever the input. */
export const MAX_MESSAGE = 1000;

/**
 * At most `max` characters of untrusted `text`, control characters escaped so the
 * message stays on one line, and the full length said when it was cut. Never
 * serialises anything whole: the caller passes a string it already has.
 */
export function excerpt(text: string, max = MAX_EXCERPT): string {
  // Escaping makes a character up to four: the cut is made on the escaped text.
  const escaped = text.slice(0, max).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return text.length > max || escaped.length > max ? `${escaped.slice(0, max)}... (${text.length} characters in all)` : escaped;
}

/** Each of the five parts of a DataError gets this much at least, so that all fit MAX_MESSAGE. */
const DETAIL_EXCERPT = 150;

function formatDataError(problem: string, d: DataErrorDetails): string {
  const where = [d.file, d.member].filter(Boolean).map((part) => excerpt(part!, DETAIL_EXCERPT)).join(': ');
  const at = d.offset === undefined ? '' : `${where ? ' ' : ''}at byte ${d.offset}`;
  const prefix = where || at ? `${where}${at}: ` : '';
  const wanted =
    d.expected !== undefined || d.found !== undefined
      ? ` (expected ${excerpt(d.expected ?? '?', DETAIL_EXCERPT)}, found ${excerpt(d.found ?? '?', DETAIL_EXCERPT)})`
      : '';
  // The problem is written here, but may embed a value: bound it too.
  return `${prefix}${excerpt(problem, Math.max(DETAIL_EXCERPT, MAX_MESSAGE - 40 - prefix.length - wanted.length))}${wanted}`;
}

/** Where a reader is: the file and member that its byte offsets refer to. */
export interface SourceContext {
  file?: string;
  member?: string;
  /** Added to every offset a reader reports (e.g. the pickle's start inside its `.npy`). */
  baseOffset?: number;
}

/**
 * An untrusted value as a message quotes it: a primitive, or a short list of primitives, as JSON
 * cut to an excerpt; anything else by its kind and size. Never serialised whole: a deep value
 * would overflow the stack and a long one the message.
 */
export function quoteValue(value: unknown): string {
  const primitive = (v: unknown) => v === null || typeof v !== 'object';
  if (Array.isArray(value)) return value.length <= 8 && value.every(primitive) ? excerpt(JSON.stringify(value)) : `a list of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  return excerpt(String(JSON.stringify(value)));
}
