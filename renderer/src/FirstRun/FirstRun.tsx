/**
 * What a newcomer sees with no start URL configured: try everything against
 * the local sandbox in one click, or enter their organisation's start URL.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, call } from '../bridge';
import type { AuthController } from '../Login/useAuthView';

export function FirstRun({ auth }: { auth: AuthController }) {
  const [startUrl, setStartUrl] = useState('');
  const [region, setRegion] = useState('us-east-1');
  const [errors, setErrors] = useState<{ startUrl?: string; ssoRegion?: string; form?: string }>({});

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
      <section className="first-run-card">
        <h2>Try the local sandbox</h2>
        <p>
          Runs a local stand-in for IAM Identity Center, the session broker and a few instances on this
          machine, so you can see the whole flow without an AWS account.
        </p>
        <button
          type="button"
          className="primary"
          disabled={auth.busy}
          onClick={() => void auth.run(() => call('auth.tryLocalSandbox'))}
        >
          {auth.busy ? 'Starting the sandbox…' : 'Try the local sandbox'}
        </button>
        {auth.error && (
          <p className="error-text" role="alert">
            {auth.error}
          </p>
        )}
      </section>
      <form className="first-run-card" onSubmit={(e) => void save(e)} noValidate>
        <h2>Use your organisation</h2>
        <div className="field">
          <label htmlFor="first-run-start-url">IAM Identity Center start URL</label>
          <input
            id="first-run-start-url"
            placeholder="https://my-org.awsapps.com/start"
            value={startUrl}
            onChange={(e) => setStartUrl(e.target.value)}
            aria-invalid={!!errors.startUrl}
          />
          {errors.startUrl && <span className="error-text">{errors.startUrl}</span>}
        </div>
        <div className="field">
          <label htmlFor="first-run-region">Identity Center region</label>
          <input
            id="first-run-region"
            value={region}
            onChange={(e) => setRegion(e.target.value)}
            aria-invalid={!!errors.ssoRegion}
          />
          {errors.ssoRegion && <span className="error-text">{errors.ssoRegion}</span>}
        </div>
        {errors.form && <p className="error-text">{errors.form}</p>}
        <button type="submit">Continue</button>
      </form>
    </div>
  );
}
