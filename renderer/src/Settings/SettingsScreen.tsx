/**
 * Settings: edits the fields through `saveSettings`; the API's field issues
 * appear next to their fields, fields set by environment variables are shown
 * read-only with the variable's name, and a settings file that could not be
 * read is reported before anything is saved over it.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
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
  mode: SessionMode;
}
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
  mode: 'broker',
};

export function SettingsScreen() {
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

  if (loadError) return <p role="alert">{loadError}</p>;
  if (!view) return <p>Loading settings…</p>;

  return (
    <form className="settings" onSubmit={onSubmit} noValidate aria-label="Settings">
      {view.problem && (
        <div className="banner banner-error" role="alert">
          {view.problem}
        </div>
      )}
      {view.envProblems.map((issue) => (
        <div key={issue.path} className="banner banner-warning" role="alert">
          {issue.message}
        </div>
      ))}
      <TextField
        field="startUrl"
        label="IAM Identity Center start URL"
        placeholder="https://my-org.awsapps.com/start"
        hint="Leave empty to use the local sandbox."
        {...fieldProps('startUrl')}
      />
      <TextField
        field="ssoRegion"
        label="IAM Identity Center region"
        placeholder="eu-west-1"
        {...fieldProps('ssoRegion')}
      />
      <TextField
        field="brokerArn"
        label="Session broker function ARN"
        placeholder="arn:aws:lambda:eu-west-1:123456789012:function:RoleShellBroker"
        {...fieldProps('brokerArn')}
      />
      <SelectField
        label="Session mode for this start URL"
        value={values.mode}
        error={errors.mode}
        onChange={(value) => edit('mode', value)}
      />
      <TextField
        field="regions"
        label="Regions"
        placeholder="eu-west-1, us-east-1"
        hint="Comma separated. Empty: the IAM Identity Center region only."
        {...fieldProps('regions')}
      />
      <TextField
        field="awsEndpoint"
        label="AWS endpoint"
        placeholder="http://127.0.0.1:4566"
        hint="One endpoint for every AWS call (the local sandbox). Empty: real AWS."
        {...fieldProps('awsEndpoint')}
      />
      <TextField
        field="sessionManagerPluginPath"
        label="session-manager-plugin path"
        placeholder="/usr/local/bin/session-manager-plugin"
        hint="Empty: the bundled plugin, then PATH, then the built-in client."
        {...fieldProps('sessionManagerPluginPath')}
      />
      {formError && (
        <p className="form-error" role="alert">
          {formError}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : 'Save'}
        </button>
        {saved && (
          <span className="saved" role="status">
            {saved}
          </span>
        )}
      </div>
      <p className="settings-file">Settings file: {view.file}</p>
      {view.secretStorage && <p className="settings-file">{view.secretStorage.description}</p>}
    </form>
  );

  function fieldProps(field: OverridableField) {
    return {
      value: values[field],
      error: errors[field],
      overriddenBy: view?.overriddenBy[field],
      onChange: (value: string) => edit(field, value),
    };
  }
}

interface TextFieldProps {
  field: string;
  label: string;
  value: string;
  placeholder?: string;
  hint?: string;
  error: string | undefined;
  overriddenBy: string | undefined;
  onChange(value: string): void;
}

function TextField({
  field,
  label,
  value,
  placeholder,
  hint,
  error,
  overriddenBy,
  onChange,
}: TextFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [error ? errorId : null, overriddenBy || hint ? hintId : null]
    .filter(Boolean)
    .join(' ');
  return (
    <div className={`field${error ? ' field-invalid' : ''}`} data-field={field}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        value={value}
        placeholder={placeholder}
        readOnly={Boolean(overriddenBy)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        spellCheck={false}
        autoComplete="off"
        onChange={(event) => onChange(event.target.value)}
      />
      {overriddenBy ? (
        <p id={hintId} className="field-hint">
          Set by the environment variable {overriddenBy} (read-only here).
        </p>
      ) : (
        hint && (
          <p id={hintId} className="field-hint">
            {hint}
          </p>
        )
      )}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

function SelectField(props: {
  label: string;
  value: SessionMode;
  error: string | undefined;
  onChange(value: SessionMode): void;
}) {
  const id = useId();
  return (
    <div className={`field${props.error ? ' field-invalid' : ''}`} data-field="mode">
      <label htmlFor={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        onChange={(event) => props.onChange(event.target.value as SessionMode)}
      >
        <option value="broker">Broker: the session broker starts sessions</option>
        <option value="direct">Direct: start sessions with the permission set’s own credentials</option>
      </select>
      {props.error && (
        <p id={`${id}-error`} className="field-error">
          {props.error}
        </p>
      )}
    </div>
  );
}
