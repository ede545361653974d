// The typed refusal of a code or refresh token that was already redeemed, thrown by the adapter
// when it loses the atomic consumption race. It is the OAuth error oidc-provider answers with
// (invalid_grant), and carries what the audit needs, so nothing has to match message text.
import { errors } from 'oidc-provider';

export class ReplayDetected extends errors.InvalidGrant {
  readonly model: string;
  readonly grantId: string | undefined;

  constructor(model: string, grantId: string | undefined) {
    super(`${model === 'RefreshToken' ? 'refresh token' : 'authorization code'} already used`);
    this.model = model;
    this.grantId = grantId;
  }
}
