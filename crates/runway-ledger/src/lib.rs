//! The append-only ledger of releases, deployments, verifications and incidents.
