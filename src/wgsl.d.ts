/** WGSL shader files are imported as their source text (esbuild's text loader; vitest.config.ts). */
declare module '*.wgsl' {
  const source: string;
  export default source;
}
