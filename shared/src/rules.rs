//! Transfer and block rules.
