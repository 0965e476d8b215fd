// Markdown output: tables, and replacing one "## Section" of a shared BENCHMARKS.md in place.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function mdTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A `### title` part of a section: the heading and each block (paragraph, table), a blank line before each. */
export const subsection = (title: string, ...blocks: string[]): string[] => ['', `### ${title}`, ...blocks.flatMap((b) => ['', b])];

/**
 * Replaces the body of `## {title}` (up to the next level-2 heading) in `file`, or appends the
 * section. Other engineers' sections are left byte for byte as they are.
 */
export function replaceSection(file: string, title: string, body: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const lines = text.split('\n');
  const heading = `## ${title}`;
  const start = lines.findIndex((l) => l.trim() === heading);
  const section = [heading, '', body.trimEnd(), ''];
  let out: string[];
  if (start < 0) {
    const trimmed = [...lines];
    while (trimmed.length > 0 && trimmed[trimmed.length - 1]?.trim() === '') trimmed.pop();
    out = [...trimmed, '', ...section];
  } else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    out = [...lines.slice(0, start), ...section, ...lines.slice(end)];
  }
  writeFileSync(file, out.join('\n').replace(/\n*$/, '\n'));
}

export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
/** A fraction of a core (0.00135) as a percentage (0.135%). */
export const pct = (x: number, d = 3): string => `${fmt(x * 100, d)}%`;
export const fmtBytes = (n: number): string => {
  if (!Number.isFinite(n)) return 'n/a';
  const a = Math.abs(n);
  if (a >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (a >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n.toFixed(0)} B`;
};
