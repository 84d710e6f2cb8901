/** An AWS account the signed-in user is assigned to. */
export interface Account {
  accountId: string;
  accountName: string;
  emailAddress?: string;
}

/** A permission set assigned to the user in one account (IdC calls it a role). */
export interface AccountPermissionSet {
  accountId: string;
  permissionSet: string;
}

/** A permission set's temporary credentials. Never leave the app core. */
export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch milliseconds. */
  expiration: number;
}

/** What the portal needs from the sign-in: a token, and a way to report one IdC rejected. */
export interface AccessTokenSource {
  accessToken(): Promise<string>;
  handleUnauthorized(rejectedToken: string): Promise<string>;
}
