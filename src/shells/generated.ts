import { GENERATED_BEGIN, GENERATED_END } from './types.js';

/**
 * `text` (a completion file) with the lines between its GENERATED_BEGIN and GENERATED_END
 * markers replaced by `section`. Used by `npm run completions` to write the files and by
 * the test that checks they are current.
 */
export function withGeneratedSection(text: string, section: string): string {
  const begin = text.indexOf(`${GENERATED_BEGIN}\n`);
  const end = text.indexOf(`${GENERATED_END}\n`);
  if (begin === -1 || end === -1 || end < begin) throw new Error(`a completion file must hold the lines\n${GENERATED_BEGIN}\n${GENERATED_END}`);
  return `${text.slice(0, begin + GENERATED_BEGIN.length + 1)}${section}\n${text.slice(end)}`;
}
