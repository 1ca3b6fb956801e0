import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import { newNameMap } from '../env/map.js';

/**
 * Field checks for parsing frames from `unknown`. Each one names the field it rejects, so
 * an error reply says exactly what was wrong with the request.
 */
export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Fields {
  constructor(private readonly o: Obj, private readonly where: string, private readonly code: ProtocolErrorCode = 'BAD_REQUEST') {}

  fail(field: string, want: string): never {
    throw new ProtocolError(this.code, `${this.where}: field '${field}' must be ${want}`);
  }

  has(field: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.o, field);
  }

  raw(field: string): unknown {
    return this.has(field) ? this.o[field] : undefined;
  }

  str(field: string): string {
    const v = this.raw(field);
    if (typeof v !== 'string') this.fail(field, 'a string');
    return v;
  }

  strOrNull(field: string): string | null {
    const v = this.raw(field);
    if (v === null) return null;
    if (typeof v !== 'string') this.fail(field, 'a string or null');
    return v;
  }

  int(field: string, min = 0): number {
    const v = this.raw(field);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(field, `an integer >= ${min}`);
    return v;
  }

  intOrNull(field: string, min = 0): number | null {
    if (this.raw(field) === null) return null;
    return this.int(field, min);
  }

  num(field: string, min = 0): number {
    const v = this.raw(field);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) this.fail(field, `a number >= ${min}`);
    return v;
  }

  /** null stands for "no limit" (JSON has no Infinity). */
  numOrNull(field: string, min = 0): number | null {
    if (this.raw(field) === null) return null;
    return this.num(field, min);
  }

  bool(field: string): boolean {
    const v = this.raw(field);
    if (typeof v !== 'boolean') this.fail(field, 'true or false');
    return v;
  }

  obj(field: string): Fields {
    const v = this.raw(field);
    if (!isObject(v)) this.fail(field, 'an object');
    return new Fields(v, `${this.where}.${field}`, this.code);
  }

  strList(field: string): string[] {
    const v = this.raw(field);
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) this.fail(field, 'a list of strings');
    return v;
  }

  /** An object whose values are all strings (an environment). */
  strRecord(field: string): Record<string, string> {
    const v = this.raw(field);
    if (!isObject(v)) this.fail(field, 'an object of strings');
    const out = newNameMap();
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') this.fail(`${field}.${k}`, 'a string');
      out[k] = x;
    }
    return out;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const v = this.raw(field);
    const hit = allowed.find((a) => a === v);
    if (hit === undefined) this.fail(field, `one of ${allowed.join(', ')}`);
    return hit;
  }

  oneOfOrNull<T extends string>(field: string, allowed: readonly T[]): T | null {
    if (this.raw(field) === null) return null;
    return this.oneOf(field, allowed);
  }
}
