//! Helpers for the end-to-end tests: locate the real binaries built by this workspace.
