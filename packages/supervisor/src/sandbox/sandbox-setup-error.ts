/** The sandbox could not be set up; the message says what is missing (the run fails closed with it). */
export class SandboxSetupError extends Error {
  override name = "SandboxSetupError";
}
