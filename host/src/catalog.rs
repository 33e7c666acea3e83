//! Store → rules → channels: reading the store's catalog (`import`), working out what each
//! channel should hold (`desired`, through that channel's rules in `draft`), queueing the
//! pairs that are out of date (`reconcile`), creating or updating the listing (`push`),
//! following the channel's review until it is live (`review`), and reading back what the
//! channel holds to correct drift (`drift`).

pub mod desired;
pub mod draft;
pub mod drift;
pub mod dry_run;
pub mod import;
pub mod link;
pub mod push;
pub mod reconcile;
pub mod review;
