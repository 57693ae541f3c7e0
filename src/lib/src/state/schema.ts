/**
 * A small validator for the JSON Schema subset our state-file schemas use. It reports every problem
 * with the JSON path of the offending value (`$.ipvs.services[2].port`), which is what a person
 * editing the file needs.
 *
 * Supported keywords: type (string or list), properties, required, additionalProperties (boolean
 * or schema), patternProperties, propertyNames, items, minItems, maxItems, uniqueItems, enum, const, minimum,
 * maximum, minLength, maxLength, pattern, format (ipv4, ipv6, ip, hostname, ifname: what the kernel
 * takes as an interface name, in bytes), oneOf, anyOf, $ref
 * (to `#/$defs/…` of the root schema), description/title/default/$schema/$id (ignored).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ifnameProblem } from '../netlink/link.js';

export interface JsonSchema {
  $schema?: string;
  $id?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  title?: string;
  description?: string;
  default?: unknown;
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  /** Every key of the object must match this (string) schema. */
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  enum?: readonly unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: 'ipv4' | 'ipv6' | 'ip' | 'hostname' | 'ifname';
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
}

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export interface SchemaProblem {
  /** JSONPath-like location, `$` is the document root. */
  path: string;
  message: string;
}

const identifier = /^[A-Za-z_$][\w$]*$/;
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return identifier.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function typeOf(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as JsonType;
}

function matchesType(v: unknown, t: JsonType): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s && s.length > 40 ? `${s.slice(0, 37)}...` : String(s);
};

const hostname = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Validate `value` against `schema`; returns every problem found (empty when valid). */
export function validate(schema: JsonSchema, value: unknown, path = '$', root: JsonSchema = schema): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const add = (message: string, at = path): void => {
    problems.push({ path: at, message });
  };

  if (schema.$ref) {
    const m = /^#\/\$defs\/(.+)$/.exec(schema.$ref);
    const target = m ? root.$defs?.[m[1]!] : undefined;
    if (!target) throw new Error(`schema: unresolved $ref ${schema.$ref}`);
    problems.push(...validate(target, value, path, root));
  }

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => matchesType(value, t))) {
      const t = typeOf(value);
      add(`expected ${types.join(' or ')}, got ${t === 'object' || t === 'array' || t === 'null' ? t : `${t} ${show(value)}`}`);
      return problems;
    }
  }

  if (schema.const !== undefined && JSON.stringify(value) !== JSON.stringify(schema.const)) {
    add(`must be ${show(schema.const)}, got ${show(value)}`);
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    add(`${show(value)} is not one of ${schema.enum.map(show).join(', ')}`);
  }

  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) add(`${value} is below the minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) add(`${value} is above the maximum ${schema.maximum}`);
  }

  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) add(`must be at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) add(`must be at most ${schema.maxLength} characters`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) add(`${show(value)} does not match ${schema.pattern}`);
    if (schema.format === 'ifname') {
      const problem = ifnameProblem(value);
      if (problem) add(`${show(value)} is not an interface name: ${problem}`);
    } else if (schema.format) {
      const ok = schema.format === 'ipv4' ? isIPv4(value)
        : schema.format === 'ipv6' ? isIPv6(value)
          : schema.format === 'ip' ? isIPv4(value) || isIPv6(value)
            : hostname.test(value);
      if (!ok) add(`${show(value)} is not a valid ${schema.format === 'ip' ? 'IP address' : schema.format}`);
    }
  }

  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) add(`must have at least ${schema.minItems} item(s)`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) add(`must have at most ${schema.maxItems} item(s)`);
    if (schema.uniqueItems) {
      const seen = new Map<string, number>();
      value.forEach((item, i) => {
        const k = JSON.stringify(item);
        const first = seen.get(k);
        if (first !== undefined) add(`duplicate of item ${first}`, childPath(path, i));
        else seen.set(k, i);
      });
    }
    if (schema.items) value.forEach((item, i) => problems.push(...validate(schema.items!, item, childPath(path, i), root)));
  }

  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!(key in obj)) add(`missing required property "${key}"`);
    }
    for (const [key, v] of Object.entries(obj)) {
      const at = childPath(path, key);
      if (schema.propertyNames) {
        for (const p of validate(schema.propertyNames, key, at, root)) problems.push({ path: at, message: `the key ${p.message}` });
      }
      const prop = schema.properties?.[key];
      let matched = false;
      if (prop) {
        matched = true;
        problems.push(...validate(prop, v, at, root));
      }
      for (const [pat, sub] of Object.entries(schema.patternProperties ?? {})) {
        if (new RegExp(pat, 'u').test(key)) {
          matched = true;
          problems.push(...validate(sub, v, at, root));
        }
      }
      if (!matched) {
        if (schema.additionalProperties === false) {
          const known = Object.keys(schema.properties ?? {});
          add(`unknown property "${key}"${known.length ? ` (expected ${known.join(', ')})` : ''}`, at);
        } else if (typeof schema.additionalProperties === 'object') {
          problems.push(...validate(schema.additionalProperties, v, at, root));
        }
      }
    }
  }

  if (schema.anyOf && !schema.anyOf.some((s) => validate(s, value, path, root).length === 0)) {
    const best = schema.anyOf.map((s) => validate(s, value, path, root)).sort((a, b) => a.length - b.length)[0]!;
    problems.push(...best);
  }
  if (schema.oneOf) {
    const results = schema.oneOf.map((s) => validate(s, value, path, root));
    const passing = results.filter((r) => r.length === 0).length;
    if (passing === 0) problems.push(...results.sort((a, b) => a.length - b.length)[0]!);
    else if (passing > 1) add('matches more than one of the allowed forms');
  }
  return problems;
}
