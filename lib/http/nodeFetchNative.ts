/**
 * What the bundles load in place of `node-fetch-native` (serverless.yml custom.esbuild.alias): ofetch falls back
 * to that polyfill only where there is no global fetch, and Node 24 has one, so the polyfill is dead weight.
 */
export const fetch = globalThis.fetch;
export const Headers = globalThis.Headers;
export const AbortController = globalThis.AbortController;
export default fetch;
