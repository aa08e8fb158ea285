// examples/*.yaml are bundled as text (esbuild loader in scripts/build-dashboard.mjs).
declare module '*.yaml' {
  const text: string;
  export default text;
}
