/** The IPC channels between preload and main; nothing else crosses. */
export const callChannel = 'roleshell:call';
export const eventChannel = 'roleshell:event';
/** Session output to the window that owns the session: (tab id, bytes). */
export const outputChannel = 'roleshell:output';
