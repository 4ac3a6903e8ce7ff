/**
 * HTTP basic credentials for git over https (a forge token and the name to send with it). The forge
 * clients hand them out; the runner's workspace passes them to git only through `GIT_ASKPASS`, and only
 * for a remote whose origin is in `hosts`.
 */
export interface GitCredentials {
  username: string;
  password: string;
  /** Origins (`https://github.com`, see `gitOrigin`) these may be sent to; any other remote gets none. */
  hosts: readonly string[];
}
