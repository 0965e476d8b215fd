// CommonJS/UMD packages (mpegts.js, video.js) seen from ESM: TypeScript's NodeNext view puts the library
// under `.default`, while esbuild's bundle may hand over the library itself. Accept both at run time.
export function cjsDefault<T>(mod: { readonly default: T }): T {
  const m = mod as unknown as { readonly default?: T } | null;
  if (m !== null && (typeof m === 'object' || typeof m === 'function') && m.default !== undefined) return m.default;
  return mod as unknown as T;
}
