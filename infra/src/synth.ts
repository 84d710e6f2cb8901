/**
 * `npm run synth`: writes the CloudFormation templates to infra/cdk.out (no
 * AWS access needed) and the guard-rail policies to infra/cdk.out/guard-rails.
 * Fails when cdk-nag reports an unsuppressed finding.
 * ROLESHELL_INFRA_CONFIG names another configuration file.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildApp } from './app';
import { InfraConfigError, loadInfraConfig } from './config';
import { guardRailFiles } from './policies';
import { MissingBrokerBundleError, requireBrokerBundle } from './stacks/brokerStack';

const infraDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const projectRoot = path.resolve(infraDir, '..');

/** Error-level annotations (cdk-nag findings among them) of every stack in the assemblies. */
export function assemblyErrors(assemblies: CloudAssembly[]): string[] {
  return assemblies.flatMap((assembly) =>
    assembly.stacks.flatMap((stack) =>
      stack.messages
        .filter((m) => m.level === 'error')
        .map((m) => `${stack.stackName} ${m.id}: ${String(m.entry.data)}`),
    ),
  );
}

export function synthesize(
  configFile: string | undefined,
  outdir = path.join(infraDir, 'cdk.out'),
  brokerBundleDir = path.join(projectRoot, 'dist/broker'),
) {
  // Validate first: a bad configuration leaves the previous output as it was.
  const config = loadInfraConfig(configFile);
  requireBrokerBundle(brokerBundleDir);
  rmSync(outdir, { recursive: true, force: true });
  const built = buildApp({ config, outdir, brokerBundleDir });
  const assemblies = [built.memberApp.synth(), built.app.synth()];
  const guardRails = path.join(outdir, 'guard-rails');
  mkdirSync(guardRails, { recursive: true });
  for (const [name, policy] of Object.entries(guardRailFiles(config))) {
    writeFileSync(path.join(guardRails, name), `${JSON.stringify(policy, null, 2)}\n`);
  }
  return { outdir, errors: assemblyErrors(assemblies), assemblies, built };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { outdir, errors, assemblies } = synthesize(process.env.ROLESHELL_INFRA_CONFIG || undefined);
    if (errors.length > 0) {
      console.error(`cdk-nag and synthesis errors:\n${errors.map((e) => `  ${e}`).join('\n')}`);
      process.exit(1);
    }
    for (const assembly of assemblies) {
      for (const stack of assembly.stacks) console.log(path.relative(projectRoot, stack.templateFullPath));
    }
    console.log(`${path.relative(projectRoot, path.join(outdir, 'guard-rails'))}/*.json`);
  } catch (error) {
    if (error instanceof InfraConfigError || error instanceof MissingBrokerBundleError) {
      console.error(error.message);
      process.exit(1);
    }
    // cdk-nag findings: CDK has already printed the report; say where it is, without a stack trace.
    if (error instanceof Error && /Validation failed/.test(error.message)) {
      console.error(`npm run synth: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
