/**
 * The broker validates with zod 4's tree-shakable "mini" build (~15 KB of
 * bundle instead of ~450 KB: faster cold start), which ships no messages.
 * Importing this module installs the English ones, so validation errors read
 * "expected string, received number" rather than "Invalid input".
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
