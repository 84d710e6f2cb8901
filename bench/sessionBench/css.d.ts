/** The benchmark bundles renderer code with esbuild, which handles its CSS imports. */
declare module '*.css';
