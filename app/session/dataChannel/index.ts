/** RoleShell's Session Manager data-channel client and the wire codec it shares with the sandbox agent. */
export {
  CLIENT_VERSION,
  DataChannelClient,
  DataChannelOpenError,
  describeChannelClosed,
  type DataChannelClientEvents,
  type DataChannelClientOptions,
} from './client';
export type { ChannelClosedPayload, SizePayload } from './message';
