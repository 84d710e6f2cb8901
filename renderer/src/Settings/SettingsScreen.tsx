/**
 * Settings: first what the app is really using right now (the sandbox's
 * values while the sandbox runs), then the saved settings, edited through
 * `saveSettings`; the API's field issues appear next to their fields, fields
 * set by environment variables are read-only with the variable's name, and a
 * settings file that could not be read is reported before anything is saved over it.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import KeyValuePairs from '@cloudscape-design/components/key-value-pairs';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import type { AuthView } from '../../../app/api/calls/auth';
import type {
  OverridableField,
  SessionMode,
  SettingsPatch,
  SettingsView,
} from '../../../app/api/calls/settings';
import { ApiError, call, errorMessage, on, type FieldIssue } from '../bridge';
import { useShell } from '../shell';

interface FormValues {
  startUrl: string;
  ssoRegion: string;
  brokerArn: string;
  regions: string;
  awsEndpoint: string;
  sessionManagerPluginPath: string;
  sessionBackend: SessionBackend;
  terminalFontSize: string;
  terminalScrollback: string;
  mode: SessionMode;
}
type SessionBackend = SettingsView['settings']['sessionBackend'];
type FormField = keyof FormValues;

function formFrom(view: SettingsView): FormValues {
  const { settings } = view;
  return {
    startUrl: settings.startUrl,
    ssoRegion: settings.ssoRegion,
    brokerArn: settings.brokerArn,
    regions: settings.regions.join(', '),
    awsEndpoint: settings.awsEndpoint,
    sessionManagerPluginPath: settings.sessionManagerPluginPath,
    sessionBackend: settings.sessionBackend,
    terminalFontSize: String(settings.terminalFontSize),
    terminalScrollback: String(settings.terminalScrollback),
    mode: view.mode,
  };
}

/** Only what the user may change: overridden fields stay out of the patch. */
function patchFrom(values: FormValues, view: SettingsView): SettingsPatch {
  const editable = (field: OverridableField) => !view.overriddenBy[field];
  const patch: SettingsPatch = {};
  if (editable('startUrl')) patch.startUrl = values.startUrl.trim();
  if (editable('ssoRegion')) patch.ssoRegion = values.ssoRegion.trim();
  if (editable('brokerArn')) patch.brokerArn = values.brokerArn.trim();
  if (editable('regions')) {
    patch.regions = values.regions
      .split(',')
      .map((region) => region.trim())
      .filter(Boolean);
  }
  if (editable('awsEndpoint')) patch.awsEndpoint = values.awsEndpoint.trim();
  if (editable('sessionManagerPluginPath'))
    patch.sessionManagerPluginPath = values.sessionManagerPluginPath.trim();
  if (editable('sessionBackend')) patch.sessionBackend = values.sessionBackend;
  // An empty or non-numeric entry goes to the schema as NaN, which answers with the field's own message.
  patch.terminalFontSize = Number(values.terminalFontSize.trim() || Number.NaN);
  patch.terminalScrollback = Number(values.terminalScrollback.trim() || Number.NaN);
  const startUrl = view.overriddenBy.startUrl ? view.settings.startUrl : values.startUrl.trim();
  if (startUrl) patch.modes = { ...view.settings.modes, [startUrl]: values.mode };
  return patch;
}

/** Maps API field paths (`regions.1`, `modes.https://…`) onto form fields; the first issue per field wins. */
function errorsFrom(fields: FieldIssue[] | undefined): Partial<Record<FormField, string>> {
  const errors: Partial<Record<FormField, string>> = {};
  for (const issue of fields ?? []) {
    const top = issue.path.split('.')[0] ?? '';
    const field: FormField | undefined = top === 'modes' ? 'mode' : (top as FormField);
    if (field in emptyForm && !errors[field]) errors[field] = issue.message;
  }
  // A bad start URL also fails as a `modes` key; say it once, at the start URL.
  if (errors.startUrl && errors.mode) delete errors.mode;
  return errors;
}

const emptyForm: FormValues = {
  startUrl: '',
  ssoRegion: '',
  brokerArn: '',
  regions: '',
  awsEndpoint: '',
  sessionManagerPluginPath: '',
  sessionBackend: 'auto',
  terminalFontSize: '',
  terminalScrollback: '',
  mode: 'broker',
};

export function SettingsScreen({ auth }: { auth: AuthView | null }) {
  const { setStatus } = useShell();
  const [view, setView] = useState<SettingsView | null>(null);
  const [values, setValues] = useState<FormValues>(emptyForm);
  const [dirty, setDirty] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<FormField, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  const show = useCallback((next: SettingsView) => {
    setView(next);
    setValues(formFrom(next));
    setDirty(false);
  }, []);

  useEffect(() => {
    call('getSettings').then(show, (error: unknown) => setLoadError(errorMessage(error)));
  }, [show]);

  // Another window saved: take the new values unless the user is mid-edit here.
  useEffect(
    () =>
      on('settings.changed', (next) => {
        if (!dirty) show(next);
      }),
    [dirty, show],
  );

  const edit = (field: FormField, value: string) => {
    setValues((old) => ({ ...old, [field]: value }));
    setDirty(true);
    setSaved(null);
    setErrors((old) => ({ ...old, [field]: undefined }));
  };

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!view) return;
    setSaving(true);
    setSaved(null);
    setFormError(null);
    try {
      const next = await call('saveSettings', patchFrom(values, view));
      show(next);
      setErrors({});
      setSaved(next.notice ? `Settings saved. ${next.notice}` : 'Settings saved.');
      setStatus('Settings saved');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'InvalidInput' && error.fields?.length) {
        const fieldErrors = errorsFrom(error.fields);
        setErrors(fieldErrors);
        if (Object.keys(fieldErrors).length === 0) setFormError(error.message);
      } else {
        setFormError(errorMessage(error));
      }
      setStatus('Settings not saved');
    } finally {
      setSaving(false);
    }
  }

  if (loadError) return <Alert type="error">{loadError}</Alert>;
  if (!view) return <StatusIndicator type="loading">Loading settings</StatusIndicator>;

  const field = (
    name: OverridableField | 'terminalFontSize' | 'terminalScrollback',
    label: string,
    placeholder: string,
    hint?: string,
  ) => {
    const overriddenBy = Object.hasOwn(view.overriddenBy, name)
      ? view.overriddenBy[name as OverridableField]
      : undefined;
    return (
      <FormField
        label={label}
        errorText={errors[name]}
        description={
          overriddenBy ? `Set by the environment variable ${overriddenBy} (read-only here).` : hint
        }
        data-field={name}
      >
        <Input
          value={values[name]}
          placeholder={placeholder}
          readOnly={Boolean(overriddenBy)}
          invalid={Boolean(errors[name])}
          spellcheck={false}
          autoComplete={false}
          onChange={({ detail }) => edit(name, detail.value)}
        />
      </FormField>
    );
  };
  const backendOptions: { value: SessionBackend; label: string }[] = [
    { value: 'auto', label: 'Automatic: session-manager-plugin when one is found, else the built-in client' },
    { value: 'builtIn', label: 'Built-in client (also resumes a dropped connection)' },
  ];
  const backendOverride = view.overriddenBy.sessionBackend;
  const modeOptions = [
    { value: 'broker', label: 'Broker: the session broker starts sessions' },
    { value: 'direct', label: 'Direct: start sessions with the permission set’s own credentials' },
  ];

  return (
    <SpaceBetween size="l">
      <InUse auth={auth} />
      {view.problem && (
        <Alert type="error">
          <span role="alert">{view.problem}</span>
        </Alert>
      )}
      {view.envProblems.map((issue) => (
        <Alert key={issue.path} type="warning">
          <span role="alert">{issue.message}</span>
        </Alert>
      ))}
      <form onSubmit={onSubmit} noValidate aria-label="Settings">
        <Form
          actions={
            <SpaceBetween direction="horizontal" size="s" alignItems="center">
              {saved && (
                <span role="status">
                  <StatusIndicator type="success">{saved}</StatusIndicator>
                </span>
              )}
              <Button variant="primary" formAction="submit" loading={saving}>
                Save
              </Button>
            </SpaceBetween>
          }
          errorText={formError ? <span role="alert">{formError}</span> : undefined}
        >
          <Container
            header={
              <Header
                variant="h2"
                description={`Saved in ${view.file}. Used when you sign in to your organisation.`}
              >
                Saved settings
              </Header>
            }
          >
            <SpaceBetween size="l">
              {field(
                'startUrl',
                'IAM Identity Center start URL',
                'https://my-org.awsapps.com/start',
                'Leave empty to use the local sandbox.',
              )}
              {field('ssoRegion', 'IAM Identity Center region', 'eu-west-1')}
              {field(
                'brokerArn',
                'Session broker function ARN',
                'arn:aws:lambda:eu-west-1:123456789012:function:RoleShellBroker',
              )}
              <FormField label="Session mode for this start URL" errorText={errors.mode} data-field="mode">
                <Select
                  selectedOption={modeOptions.find((o) => o.value === values.mode) ?? modeOptions[0]!}
                  options={modeOptions}
                  invalid={Boolean(errors.mode)}
                  onChange={({ detail }) => edit('mode', detail.selectedOption.value as SessionMode)}
                />
              </FormField>
              {field(
                'regions',
                'Regions',
                'eu-west-1, us-east-1',
                'Comma separated. Empty: the IAM Identity Center region only.',
              )}
              {field(
                'awsEndpoint',
                'AWS endpoint',
                'http://127.0.0.1:4566',
                'One endpoint for every AWS call (the local sandbox). Empty: real AWS.',
              )}
              {field(
                'sessionManagerPluginPath',
                'session-manager-plugin path',
                '/usr/local/bin/session-manager-plugin',
                'Empty: the bundled plugin, then PATH, then the built-in client.',
              )}
              <FormField
                label="Session backend"
                errorText={errors.sessionBackend}
                description={
                  backendOverride
                    ? `Set by the environment variable ${backendOverride} (read-only here).`
                    : undefined
                }
                data-field="sessionBackend"
              >
                <Select
                  selectedOption={
                    backendOptions.find((o) => o.value === values.sessionBackend) ?? backendOptions[0]!
                  }
                  options={backendOptions}
                  disabled={Boolean(backendOverride)}
                  onChange={({ detail }) =>
                    edit('sessionBackend', detail.selectedOption.value as SessionBackend)
                  }
                />
              </FormField>
              {field('terminalFontSize', 'Terminal font size', '13')}
              {field('terminalScrollback', 'Terminal scrollback (lines)', '5000')}
              {view.secretStorage && (
                <Box color="text-body-secondary" data-testid="secret-storage">
                  {view.secretStorage.description}
                </Box>
              )}
            </SpaceBetween>
          </Container>
        </Form>
      </form>
    </SpaceBetween>
  );
}

/** What the app core is connected with right now: read-only, from the sign-in view. */
function InUse({ auth }: { auth: AuthView | null }) {
  const inUse = auth?.inUse;
  return (
    <Container
      data-testid="settings-in-use"
      header={
        <Header
          variant="h2"
          description={
            auth?.sandbox
              ? 'The local sandbox is in use: these values are the sandbox’s and cannot be changed here.'
              : 'What RoleShell is connected with right now.'
          }
        >
          In use now
        </Header>
      }
    >
      {!auth || !inUse ? (
        <Box color="text-body-secondary">Nothing yet: set a start URL below, or try the local sandbox.</Box>
      ) : (
        <KeyValuePairs
          columns={3}
          items={[
            { label: 'Start URL', value: auth.startUrl },
            { label: 'IAM Identity Center region', value: auth.region },
            { label: 'Session mode', value: inUse.mode === 'broker' ? 'Broker' : 'Direct' },
            { label: 'AWS endpoint', value: inUse.endpoint || 'Real AWS' },
            { label: 'Broker function', value: inUse.brokerArn || 'None' },
            { label: 'Regions', value: inUse.regions.join(', ') },
          ]}
        />
      )}
    </Container>
  );
}
