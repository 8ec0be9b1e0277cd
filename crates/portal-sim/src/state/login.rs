//! Checking credentials and opening sessions.

use std::time::Instant;

use super::SimState;

#[derive(Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Logged in; the value is the new session token.
    Success {
        token: String,
        email: String,
    },
    InvalidCredentials,
    Blocked,
}

impl SimState {
    /// Tries a login and counts it. `roll` is a uniform number in [0, 1)
    /// drawn by the caller; it fails the login on purpose when it falls under
    /// the `login_error_rate` fault.
    pub fn log_in(&mut self, email: &str, password: &str, roll: f64, now: Instant) -> LoginOutcome {
        match self.check_credentials(email, password, roll) {
            Ok(email) => {
                self.stats.logins += 1;
                let token = self.sessions.open(&email, now);
                LoginOutcome::Success { token, email }
            }
            Err(failure) => {
                self.stats.failed_logins += 1;
                failure
            }
        }
    }

    /// The account's canonical email, or the failed outcome.
    fn check_credentials(
        &self,
        email: &str,
        password: &str,
        roll: f64,
    ) -> Result<String, LoginOutcome> {
        // Blocked wins over everything: the account is unusable whatever is typed.
        if self.faults.is_blocked(email) {
            return Err(LoginOutcome::Blocked);
        }
        match self.account(email) {
            Some(account)
                if account.password == password && roll >= self.faults.login_error_rate =>
            {
                Ok(account.email.clone())
            }
            _ => Err(LoginOutcome::InvalidCredentials),
        }
    }

    /// The email behind a live session token, refreshing its idle timer.
    /// Sessions of accounts blocked since login are ended.
    pub fn session_email(&mut self, token: &str, now: Instant) -> Option<String> {
        let email = self.sessions.touch(token, now)?;
        if self.faults.is_blocked(&email) {
            self.sessions.close(token);
            return None;
        }
        Some(email)
    }

    pub fn log_out(&mut self, token: &str) {
        self.sessions.close(token);
    }
}
