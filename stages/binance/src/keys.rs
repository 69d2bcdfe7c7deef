//! Loading API credentials from the environment or key files.
