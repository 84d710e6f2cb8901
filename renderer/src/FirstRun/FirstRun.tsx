/**
 * The first-run choice, also shown after signing out: try everything against
 * the local sandbox in one click, or enter the organisation's start URL (and,
 * after a sign-out, sign in again to the start URL in use).
 */
import { useState, type FormEvent } from 'react';
import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import SpaceBetween from '@cloudscape-design/components/space-between';
import { ApiError, call } from '../bridge';
import type { AuthController } from '../Login/useAuthView';

export function FirstRun({ auth, signedOut }: { auth: AuthController; signedOut?: boolean }) {
  const [startUrl, setStartUrl] = useState('');
  const [region, setRegion] = useState('us-east-1');
  const [errors, setErrors] = useState<{ startUrl?: string; ssoRegion?: string; form?: string }>({});
  const view = auth.view;

  async function save(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    if (!startUrl.trim()) {
      setErrors({ startUrl: 'Enter your start URL (for example https://my-org.awsapps.com/start)' });
      return;
    }
    try {
      await call('saveSettings', { startUrl: startUrl.trim(), ssoRegion: region.trim() });
      await auth.reload();
    } catch (error) {
      if (error instanceof ApiError && error.fields?.length) {
        const next: typeof errors = {};
        for (const f of error.fields)
          if (f.path === 'startUrl' || f.path === 'ssoRegion') next[f.path] ??= f.message;
        setErrors(Object.keys(next).length ? next : { form: error.message });
      } else {
        setErrors({ form: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  return (
    <div className="first-run" data-testid="first-run">
      <SpaceBetween size="l">
        <Header
          variant="h1"
          description="RoleShell opens a shell on your EC2 instances as the Linux user your permission set maps to."
        >
          {signedOut ? 'You are signed out' : 'Welcome to RoleShell'}
        </Header>
        {signedOut && view?.configured && view.startUrl && (
          <Container header={<Header variant="h2">Sign in again</Header>}>
            <SpaceBetween size="s">
              <Box>
                To <b>{view.startUrl}</b> ({view.region}){view.sandbox ? ', the local sandbox' : ''}.
              </Box>
              <Button
                variant="primary"
                disabled={auth.busy}
                onClick={() => void auth.run(() => call('auth.signIn'))}
              >
                Sign in
              </Button>
            </SpaceBetween>
          </Container>
        )}
        <ColumnLayout columns={2}>
          <Container header={<Header variant="h2">Try the local sandbox</Header>} fitHeight>
            <SpaceBetween size="m">
              <Box variant="p">
                Runs a local stand-in for IAM Identity Center, the session broker and a few instances on this
                machine, so you can see the whole flow without an AWS account.
              </Box>
              <Button
                variant={signedOut ? 'normal' : 'primary'}
                loading={auth.busy}
                loadingText="Starting the sandbox"
                onClick={() => void auth.run(() => call('auth.tryLocalSandbox'))}
              >
                Try the local sandbox
              </Button>
              {auth.error && (
                <Alert type="error" statusIconAriaLabel="Error">
                  <span role="alert">{auth.error}</span>
                </Alert>
              )}
            </SpaceBetween>
          </Container>
          <Container header={<Header variant="h2">Use your organisation</Header>} fitHeight>
            <form onSubmit={(e) => void save(e)} noValidate>
              <Form actions={<Button formAction="submit">Continue</Button>} errorText={errors.form}>
                <SpaceBetween size="m">
                  <FormField label="IAM Identity Center start URL" errorText={errors.startUrl}>
                    <Input
                      value={startUrl}
                      placeholder="https://my-org.awsapps.com/start"
                      onChange={({ detail }) => setStartUrl(detail.value)}
                      invalid={!!errors.startUrl}
                      type="url"
                    />
                  </FormField>
                  <FormField label="Identity Center region" errorText={errors.ssoRegion}>
                    <Input
                      value={region}
                      onChange={({ detail }) => setRegion(detail.value)}
                      invalid={!!errors.ssoRegion}
                    />
                  </FormField>
                </SpaceBetween>
              </Form>
            </form>
          </Container>
        </ColumnLayout>
      </SpaceBetween>
    </div>
  );
}
