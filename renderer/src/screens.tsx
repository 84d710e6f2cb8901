/**
 * The views of the side navigation, in order. The current one lives in the
 * URL fragment, so a reload keeps the user where they were.
 */
export const views = [
  { id: 'instances', title: 'Instances' },
  { id: 'sessions', title: 'Sessions' },
  { id: 'settings', title: 'Settings' },
] as const;
export type ViewId = (typeof views)[number]['id'];

export const initialView: ViewId = 'instances';

export function viewFromLocation(): ViewId {
  const id = decodeURIComponent(window.location.hash.slice(1));
  return views.find((v) => v.id === id)?.id ?? initialView;
}
