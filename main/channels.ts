/** The two IPC channels between preload and main; nothing else crosses. */
export const callChannel = 'roleshell:call';
export const eventChannel = 'roleshell:event';
