/**
 * The broker bundle's stand-in for `@aws-sdk/credential-provider-node` (scripts/build-broker.mjs
 * aliases it here). Lambda hands a Node.js function its execution role's credentials in
 * environment variables and nowhere else, so the default chain's SSO, INI, process,
 * web-identity and IMDS providers are dead weight: about 95 KiB of the bundle, loaded on every
 * cold start. Member-account clients never get here: they are given assumed-role credentials.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** Same name and call shape as the package it replaces, so every SDK client's runtime config keeps working. */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
