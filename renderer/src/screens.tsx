/**
 * The screen registry: the sidebar lists these in order and the content area
 * shows the selected one. To add a screen (login, browse, sessions …), import
 * its component from its own folder (e.g. `./Login/LoginScreen`) and add one
 * entry here; put the screen users should land on first and set
 * `initialScreenId` if it is not the first entry.
 */
import type { ComponentType } from 'react';
import { SettingsScreen } from './Settings/SettingsScreen';
import { BrowseScreen } from './Browse/BrowseScreen';

/** The Sessions screen shows the always-mounted TerminalTabs of App.tsx, so terminals survive screen switches. */
function SessionsScreen() {
  return null;
}

export interface ScreenEntry {
  /** Stable id for navigation (`useShell().navigate(id)`) and test ids. */
  id: string;
  /** Sidebar label and the content area's heading. */
  title: string;
  Component: ComponentType;
}

export const screens: ScreenEntry[] = [
  { id: 'connect', title: 'Connect', Component: BrowseScreen },
  { id: 'sessions', title: 'Sessions', Component: SessionsScreen },
  { id: 'settings', title: 'Settings', Component: SettingsScreen },
];

export const initialScreenId: string = screens[0]!.id;
