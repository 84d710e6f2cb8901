export * from './schema';
export { loadOrg, defaultOrgPath, findProjectRoot, OrgFileError, type LoadedOrg } from './load';
export { generateOrg, type GenerateOrgOptions } from './generate';
