/** The config.yaml compiled by scripts/compile-config.ts, bundled through the `tollgate-config` alias. */
declare module 'tollgate-config' {
  const compiled: { source: string; compiledAt: string; config: unknown };
  export default compiled;
}
