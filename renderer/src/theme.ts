/** Light or dark, following the operating system (and changing with it while the app runs). */
import { applyDensity, applyMode, Density, Mode } from '@cloudscape-design/global-styles';

export function followSystemTheme(): void {
  applyDensity(Density.Comfortable);
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  const apply = () => applyMode(query.matches ? Mode.Dark : Mode.Light);
  apply();
  query.addEventListener('change', apply);
}
