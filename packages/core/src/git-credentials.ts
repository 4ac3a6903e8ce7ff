/**
 * HTTP basic credentials for git over https (a forge token and the name to send with it). The forge
 * clients hand them out; the runner's workspace passes them to git only through `GIT_ASKPASS`.
 */
export interface GitCredentials {
  username: string;
  password: string;
}
