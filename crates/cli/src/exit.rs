//! How a failed command maps to an exit status: 2 for bad input, 1 for internal failures.

use std::fmt::Display;

/// A command failure, classified by whose fault it is.
#[derive(Debug)]
pub enum CliError {
    /// The user's input is malformed or inconsistent (exit status 2).
    Input(anyhow::Error),
    /// Something failed that the input does not explain (exit status 1).
    Internal(anyhow::Error),
}

impl CliError {
    /// The process exit status for this failure.
    pub fn status(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Internal(_) => 1,
        }
    }
}

impl Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Input(e) | CliError::Internal(e) => write!(f, "{e:#}"),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for CliError {
    fn from(error: E) -> Self {
        CliError::Internal(error.into())
    }
}

/// Marks an error as the user's input being at fault.
pub trait InputContext<T> {
    /// Converts the error into [`CliError::Input`].
    fn input(self) -> Result<T, CliError>;
}

impl<T, E: Into<anyhow::Error>> InputContext<T> for Result<T, E> {
    fn input(self) -> Result<T, CliError> {
        self.map_err(|e| CliError::Input(e.into()))
    }
}
