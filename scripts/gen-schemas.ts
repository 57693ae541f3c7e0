/**
 * Generate schema/results/*.json: the JSON Schema of every command's `--json` output, read from
 * the command's result type (the T of `HaCommand<T>`) with the TypeScript compiler, so that the
 * contract scripts rely on is the type the code returns and cannot drift from it.
 *
 *   node dist/scripts/gen-schemas.js           write schema/results/, delete stale files
 *   node dist/scripts/gen-schemas.js --check   write nothing; exit 1 listing what is out of date
 *
 * One file per command, named by its id with spaces as dashes (`ipvs-add-service.json`), plus
 * `error.json`, the shape every command prints with --json when it fails. Conventions a command
 * can use:
 * - `export type JsonLine = T` in the command's module: the command prints one JSON object of
 *   type T per line as things happen (ha bond watch); the schema describes one line and says
 *   `"x-ha-json-lines": true`.
 * - a result of `void`: the command runs another command of its topic, whose output it prints
 *   (ha ipvs -Ln); the schema is `"x-ha-result-of": "<topic>"`.
 *
 * Named interfaces and type aliases become `$defs`; property comments become descriptions;
 * bigint counters are integers (toJson prints them as numbers); properties that may be undefined
 * are not required (JSON.stringify leaves them out); objects take no properties beyond their type's.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { FAILURE_CODES, USAGE_CODES } from '@ha/lib';
import type { JsonSchema } from '@ha/lib/state';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'schema', 'results');

type Schema = JsonSchema & Record<string, unknown>;

/** Type names that are shapes of other types, not types of their own. */
const UTILITY = new Set(['Record', 'Partial', 'Pick', 'Omit', 'Required', 'Readonly', 'Exclude', 'Extract', 'NonNullable']);
/** Types that JSON.stringify does not print as what they hold. */
const UNPRINTABLE = new Set(['Date', 'Map', 'Set', 'Buffer', 'Uint8Array', 'Promise', 'Function', 'RegExp']);

/** Command source files and their ids: src/commands/state/schema.ts is "state schema". */
function commandFiles(): Array<{ id: string; file: string }> {
  const dirs = [join(root, 'src', 'commands')];
  const plugins = join(root, 'plugins');
  for (const p of readdirSync(plugins).sort()) dirs.push(join(plugins, p, 'src', 'commands'));
  const out: Array<{ id: string; file: string }> = [];
  const walk = (base: string, dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(base, p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const parts = relative(base, p).replace(/\.ts$/, '').split(sep);
        if (parts.at(-1) === 'index') parts.pop();
        out.push({ id: parts.join(' '), file: p });
      }
    }
  };
  for (const d of dirs) walk(d, d);
  return out;
}

class Generator {
  private readonly defs = new Map<string, Schema>();
  private readonly names = new Map<ts.Symbol, string>();

  constructor(private readonly checker: ts.TypeChecker, private readonly where: string) {}

  /** The schema of one result type, with the $defs it uses. */
  document(type: ts.Type): Schema {
    const body = this.schema(type, '$');
    const defs = [...this.defs.entries()].sort(([a], [b]) => a.localeCompare(b));
    return defs.length ? { ...body, $defs: Object.fromEntries(defs) } : body;
  }

  private fail(path: string, what: string): never {
    throw new Error(`${this.where}: ${path}: ${what} cannot be printed as JSON; change the result type`);
  }

  private schema(type: ts.Type, path: string): Schema {
    const f = type.flags;
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
    if (f & ts.TypeFlags.Null) return { type: 'null' };
    if (f & ts.TypeFlags.StringLiteral) return { type: 'string', const: (type as ts.StringLiteralType).value };
    if (f & ts.TypeFlags.NumberLiteral) return { type: 'number', const: (type as ts.NumberLiteralType).value };
    if (f & ts.TypeFlags.BooleanLiteral) return { type: 'boolean', const: (type as unknown as { intrinsicName: string }).intrinsicName === 'true' };
    if (f & ts.TypeFlags.StringLike) return { type: 'string' };
    if (f & ts.TypeFlags.NumberLike) return { type: 'number' };
    if (f & ts.TypeFlags.BigIntLike) return { type: 'integer' };
    if (f & ts.TypeFlags.BooleanLike) return { type: 'boolean' };
    if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) this.fail(path, 'undefined');
    if (type.isUnion()) return type.aliasSymbol && !type.aliasTypeArguments?.length ? this.named(type, type.aliasSymbol, path, () => this.union(type, path)) : this.union(type, path);
    if (this.checker.isTupleType(type)) {
      const elements = this.checker.getTypeArguments(type as ts.TypeReference).map((t, i) => this.schema(t, `${path}[${i}]`));
      return { type: 'array', items: elements.length === 1 ? elements[0]! : { anyOf: elements }, minItems: elements.length, maxItems: elements.length };
    }
    if (this.checker.isArrayType(type)) {
      const [element] = this.checker.getTypeArguments(type as ts.TypeReference);
      return { type: 'array', items: this.schema(element!, `${path}[]`) };
    }
    if (f & ts.TypeFlags.Object || type.isIntersection()) {
      const symbol = type.aliasSymbol ?? type.getSymbol();
      const generic = Boolean(type.aliasTypeArguments?.length || (type as ts.TypeReference).typeArguments?.length);
      if (!symbol || symbol.name.startsWith('__') || generic || UTILITY.has(symbol.name)) return this.object(type, path);
      return this.named(type, symbol, path, () => this.object(type, path));
    }
    return this.fail(path, `type ${this.checker.typeToString(type)}`);
  }

  private union(type: ts.UnionType, path: string): Schema {
    const members = type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)));
    if (members.length === 0) this.fail(path, 'undefined');
    // boolean is true | false
    const bools = members.filter((t) => t.flags & ts.TypeFlags.BooleanLiteral);
    const rest = members.filter((t) => !(t.flags & ts.TypeFlags.BooleanLiteral));
    const parts: Schema[] = bools.length === 2 ? [{ type: 'boolean' }] : bools.map((t) => this.schema(t, path));
    const strings = rest.filter((t) => t.flags & ts.TypeFlags.StringLiteral).map((t) => (t as ts.StringLiteralType).value);
    const numbers = rest.filter((t) => t.flags & ts.TypeFlags.NumberLiteral).map((t) => (t as ts.NumberLiteralType).value);
    if (strings.length) parts.push(strings.length === 1 ? { type: 'string', const: strings[0] } : { type: 'string', enum: strings.sort() });
    if (numbers.length) parts.push(numbers.length === 1 ? { type: 'number', const: numbers[0] } : { type: 'number', enum: numbers.sort((a, b) => a - b) });
    for (const t of rest) if (!(t.flags & (ts.TypeFlags.StringLiteral | ts.TypeFlags.NumberLiteral))) parts.push(this.schema(t, path));
    return parts.length === 1 ? parts[0]! : { anyOf: parts };
  }

  /** A named type goes in $defs once, under its name (numbered when two types share one). */
  private named(type: ts.Type, symbol: ts.Symbol, path: string, build: () => Schema): Schema {
    if (UNPRINTABLE.has(symbol.name)) this.fail(path, symbol.name);
    let key = this.names.get(symbol);
    if (key === undefined) {
      key = symbol.name;
      for (let n = 2; this.defs.has(key); n++) key = `${symbol.name}${n}`;
      this.names.set(symbol, key);
      // taken before it is built, so that a type that contains itself refers to itself
      this.defs.set(key, {});
      this.defs.set(key, build());
    }
    return { $ref: `#/$defs/${key}` };
  }

  private object(type: ts.Type, path: string): Schema {
    if (type.getCallSignatures().length) this.fail(path, 'a function');
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const p of this.checker.getPropertiesOfType(type)) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      const t = decl ? this.checker.getTypeOfSymbolAtLocation(p, decl) : this.checker.getTypeOfSymbol(p);
      if (t.getCallSignatures().length && !(t.flags & ts.TypeFlags.Union)) continue; // methods are not data
      const optional = (p.flags & ts.SymbolFlags.Optional) !== 0 || (t.isUnion() && t.types.some((m) => m.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)));
      if (t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) continue;
      const s = this.schema(t, `${path}.${p.name}`);
      const doc = ts.displayPartsToString(p.getDocumentationComment(this.checker)).replace(/\s+/g, ' ').trim();
      properties[p.name] = doc && !s.$ref ? { description: doc, ...s } : s;
      if (!optional) required.push(p.name);
    }
    const index = this.checker.getIndexInfosOfType(type).find((i) => i.keyType.flags & ts.TypeFlags.String);
    const out: Schema = { type: 'object' };
    if (Object.keys(properties).length) out.properties = properties;
    if (required.length) out.required = required;
    out.additionalProperties = index ? this.schema(index.type, `${path}[*]`) : false;
    return out;
  }
}

/**
 * The T of HaCommand<T> for a command class, through IpvsCommand<T> and the like: what its exec()
 * resolves to (exec is HaCommand's `Promise<T>`, which every command implements).
 */
function resultType(checker: ts.TypeChecker, cls: ts.ClassDeclaration): ts.Type | undefined {
  const instance = checker.getDeclaredTypeOfSymbol(checker.getSymbolAtLocation(cls.name!)!);
  const exec = instance.getProperty('exec');
  if (!exec) return undefined;
  const [signature] = checker.getTypeOfSymbol(exec).getCallSignatures();
  if (!signature) return undefined;
  return checker.getAwaitedType(signature.getReturnType());
}

function generate(): Map<string, string> {
  const commands = commandFiles();
  const program = ts.createProgram(commands.map((c) => c.file), {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
    strict: true, skipLibCheck: true, noEmit: true, types: ['node'],
  });
  const checker = program.getTypeChecker();
  const files = new Map<string, string>();
  const write = (name: string, doc: unknown): void => { files.set(name, `${JSON.stringify(doc, null, 2)}\n`); };
  for (const { id, file } of commands) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`${file}: not in the program`);
    const cls = source.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s)
      && (ts.getCombinedModifierFlags(s) & ts.ModifierFlags.Default) !== 0);
    if (!cls) throw new Error(`${file}: no default-exported command class`);
    const result = resultType(checker, cls);
    if (!result) throw new Error(`${file}: the command does not extend HaCommand<T>`);
    const summary = cls.members.find((m) => ts.isPropertyDeclaration(m) && m.name.getText(source) === 'summary') as ts.PropertyDeclaration | undefined;
    const head: Schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: `ha ${id} --json`,
      ...(summary?.initializer && ts.isStringLiteralLike(summary.initializer) ? { description: summary.initializer.text } : {}),
    };
    const gen = new Generator(checker, relative(root, file));
    const lineAlias = source.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'JsonLine');
    let body: Schema;
    if (lineAlias) body = { 'x-ha-json-lines': true, ...gen.document(checker.getTypeAtLocation(lineAlias.name)) };
    else if (result.flags & ts.TypeFlags.Void) body = { 'x-ha-result-of': id };
    else body = gen.document(result);
    write(`${id.replaceAll(' ', '-')}.json`, { ...head, ...body });
  }
  // each code has one exit status: ha's usage codes 2; ha's failure codes and the errno names 1,
  // or 128 + n after signal n (EINTR)
  const errorOf = (codes: string[], exitCode: Schema): Schema => ({
    type: 'object',
    properties: {
      code: { description: 'What went wrong, from a closed set (ha(1), ERROR CODES).', type: 'string', enum: codes },
      message: { description: 'One line for people: what was wrong and what is accepted.', type: 'string' },
      exitCode: exitCode,
    },
    required: ['code', 'message', 'exitCode'],
    additionalProperties: false,
  });
  const failures = [...new Set([...Object.keys(FAILURE_CODES), ...Object.keys(constants.errno)])].sort();
  write('error.json', {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'ha COMMAND --json, when the command fails',
    description: 'What every command prints with --json when it fails without a result of its own.',
    type: 'object',
    properties: {
      error: {
        anyOf: [
          errorOf(Object.keys(USAGE_CODES).sort(), { description: 'Invalid usage: nothing was changed.', type: 'integer', const: 2 }),
          errorOf(failures, { description: 'The operation failed (1), or a signal ended it (128 + n).', anyOf: [{ type: 'integer', const: 1 }, { type: 'integer', minimum: 129, maximum: 255 }] }),
        ],
      },
    },
    required: ['error'],
    additionalProperties: false,
  });
  return files;
}

const check = process.argv.includes('--check');
const files = generate();
const existing = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.json')) : [];
const problems: string[] = [];
for (const [name, text] of files) {
  const p = join(outDir, name);
  const old = existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  if (old === text) continue;
  if (check) problems.push(`${old === undefined ? 'missing' : 'stale'}:   schema/results/${name}`);
  else {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(p, text);
  }
}
for (const name of existing) {
  if (files.has(name)) continue;
  if (check) problems.push(`extra:   schema/results/${name}`);
  else rmSync(join(outDir, name));
}
if (check && problems.length) {
  process.stdout.write(`The result schemas are out of date; run \`npm run man\` (after \`npm run build\`) and commit schema/results/.\n${problems.join('\n')}\n`);
  process.exitCode = 1;
} else if (!check) {
  process.stdout.write(`schema/results/: ${files.size} schemas\n`);
}
