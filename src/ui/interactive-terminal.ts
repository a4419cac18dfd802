/**
 * Ink reads CI and CONTINUOUS_INTEGRATION once, when it loads (is-in-ci), and while either is set
 * draws only the last frame at exit: right for a progress view in a CI log, a blank screen for a
 * TUI someone is typing into (a shell in a CI job, a dev container that exports CI=true).
 * Call before Ink is first imported, only once the terminal is known to be interactive.
 */
export function drawEveryFrame(): void {
  delete process.env.CI
  delete process.env.CONTINUOUS_INTEGRATION
}
